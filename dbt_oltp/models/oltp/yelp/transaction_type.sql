{{ config(unique_key='transaction_type_id') }}

with

sightings as (

    {{ sightings(ref('stg_yelp__business_transactions'), ['transaction_type']) }}

),

final as (

    select
        {{ stable_key(['transaction_type']) }} as transaction_type_id,
        transaction_type as transaction_type_name,
        first_seen_on,
        valid_to,
        last_seen_on,
        {{ row_hash(['transaction_type', 'first_seen_on', 'valid_to', 'last_seen_on']) }}
            as row_hash
    from sightings

)

select
    final.transaction_type_id,
    final.transaction_type_name,
    final.first_seen_on as valid_from,
    final.valid_to,
    final.last_seen_on,
    final.row_hash,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.transaction_type_id = previous.transaction_type_id
{% endif %}
