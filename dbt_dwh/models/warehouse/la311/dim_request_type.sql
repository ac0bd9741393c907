-- LA 311 request types.
with

request_types as (

    select * from {{ ref('stg_lake__request_type') }}

)

select
    request_type_id as request_type_key,
    request_type_name,
    last_edited_at
from request_types
