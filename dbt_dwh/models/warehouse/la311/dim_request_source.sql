-- How LA 311 requests came in.
with

request_sources as (

    select * from {{ ref('stg_lake__request_source') }}

)

select
    request_source_id as request_source_key,
    request_source_name,
    last_edited_at
from request_sources
