{{
    config(
        unique_key=['business_id', 'category_id', 'valid_from'],
        incremental_strategy='replace_scope',
        scope_column='business_id',
        indexes=[
            {'columns': ['business_id']},
            {'columns': ['category_id']},
            {'columns': ['last_edited_at']},
        ],
        pre_hook="{{ capture_fold_scope(['businesses', 'businesses__categories'],
                                         link_keys(ref('stg_yelp__business_categories'))) }}",
        post_hook="{{ commit_fold_scope() }}",
    )
}}

-- depends_on: {{ ref('business') }}
-- depends_on: {{ ref('business_category') }}

-- Which business is in which category, as validity islands over survey days.

with

islands as (

    {{ link_islands(ref('stg_yelp__business_categories'), 'category_alias', 'category_id') }}

),

final as (

    select
        *,
        {{ row_hash(['valid_to']) }} as row_hash
    from islands

)

select
    final.business_id,
    final.category_id,
    final.valid_from,
    final.valid_to,
    final.row_hash,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous
        on
            final.business_id = previous.business_id
            and final.category_id = previous.category_id
            and final.valid_from = previous.valid_from
{% endif %}
