{{
    config(
        unique_key=['business_id', 'transaction_type_id', 'valid_from'],
        incremental_strategy='replace_scope',
        scope_column='business_id',
        indexes=[
            {'columns': ['business_id']},
            {'columns': ['transaction_type_id']},
            {'columns': ['last_edited_at']},
        ],
        pre_hook="{{ capture_fold_scope(['businesses', 'businesses__transactions'],
                                         link_keys(ref('stg_yelp__business_transactions'))) }}",
        post_hook="{{ commit_fold_scope() }}",
    )
}}

-- depends_on: {{ ref('business') }}
-- depends_on: {{ ref('transaction_type') }}

-- Which business offers which transaction type, as validity islands over survey days.

with

islands as (

    {{ link_islands(
        ref('stg_yelp__business_transactions'), 'transaction_type', 'transaction_type_id'
    ) }}

),

final as (

    select
        *,
        {{ row_hash(['valid_to']) }} as row_hash
    from islands

)

select
    final.business_id,
    final.transaction_type_id,
    final.valid_from,
    final.valid_to,
    final.row_hash,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous
        on
            final.business_id = previous.business_id
            and final.transaction_type_id = previous.transaction_type_id
            and final.valid_from = previous.valid_from
{% endif %}
