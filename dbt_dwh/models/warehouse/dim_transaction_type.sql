-- Transaction types (delivery, pickup, ...), current version.
with

versions as (

    select * from {{ ref('snap_transaction_type') }}

)

select
    transaction_type_id as transaction_type_key,
    transaction_type_name,
    valid_from,
    coalesce(valid_to, {{ open_end() }}) as valid_to,
    last_edited_at
from versions
where dbt_valid_to is null
