{{ config(unique_key='payment_level_id') }}

with

levels as (

    select * from (
        values
        (0, null, 'Unknown'),
        (1, '$', 'Very Low'),
        (2, '$$', 'Low'),
        (3, '$$$', 'High'),
        (4, '$$$$', 'Very High')
    ) as v (payment_level_id, price_symbol, payment_level_name)

),

hashed as (

    select
        cast(payment_level_id as integer) as payment_level_id,
        cast(price_symbol as text) as price_symbol,
        cast(payment_level_name as text) as payment_level_name,
        {{ row_hash(['payment_level_id', 'price_symbol', 'payment_level_name']) }} as row_hash
    from levels

)

select
    hashed.*,
    {{ changed_at('hashed.row_hash', 'previous') }} as last_edited_at
from hashed
{% if is_incremental() %}
    left join {{ this }} as previous on hashed.payment_level_id = previous.payment_level_id
{% endif %}
