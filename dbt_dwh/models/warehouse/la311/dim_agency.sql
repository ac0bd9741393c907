-- Agencies that own LA 311 requests.
with

agencys as (

    select * from {{ ref('stg_lake__agency') }}

)

select
    agency_id as agency_key,
    agency_code,
    last_edited_at
from agencys
