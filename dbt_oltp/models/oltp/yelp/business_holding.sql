{{
    config(
        unique_key=['business_id', 'surveyed_on'],
        incremental_strategy='replace_scope',
        scope_column='surveyed_on',
        indexes=[
            {'columns': ['surveyed_on']},
            {'columns': ['last_edited_at']},
        ],
        pre_hook="{{ capture_fold_scope(['businesses']) }}",
        post_hook="{{ commit_fold_scope() }}",
    )
}}

-- depends_on: {{ ref('business') }}

-- One row per business per survey day. A folded day is replaced whole: a business its listing
-- no longer has loses that day's holding.

with

listings as (

    select * from {{ ref('stg_yelp__businesses') }}
    {%- if is_incremental() %}
        where surveyed_on in {{ fold_days() }}
    {%- endif %}

),

final as (

    select
        {{ stable_key(['yelp_business_id']) }} as business_id,
        surveyed_on,
        rating,
        review_count,
        {{ row_hash(['rating', 'review_count']) }} as row_hash

    from listings

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous
        on final.business_id = previous.business_id and final.surveyed_on = previous.surveyed_on
{% endif %}
