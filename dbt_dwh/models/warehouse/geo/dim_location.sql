-- Cities, snowflaked to dim_county.
with

cities as (

    select * from {{ ref('stg_lake__city') }}

)

select
    city_id as location_key,
    city_name,
    county_id as county_key,
    last_edited_at
from cities
