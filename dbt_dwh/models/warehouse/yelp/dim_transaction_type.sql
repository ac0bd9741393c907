-- Transaction types (delivery, pickup, ...), current version.
with

transaction_types as (

    select * from {{ ref('stg_lake__transaction_type') }}

)

select
    transaction_type_id as transaction_type_key,
    transaction_type_name,
    valid_from,
    coalesce(valid_to, {{ open_end() }}) as valid_to,
    last_edited_at
from transaction_types
