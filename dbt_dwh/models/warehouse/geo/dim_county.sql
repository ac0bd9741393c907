-- Counties with their state and country folded in.
with

counties as (

    select * from {{ ref('stg_lake__county') }}

),

states as (

    select * from {{ ref('stg_lake__state') }}

),

countries as (

    select * from {{ ref('stg_lake__country') }}

)

select
    counties.county_id as county_key,
    counties.county_name,
    counties.fips_code,
    states.state_code,
    states.state_name,
    states.state_kind,
    countries.country_code,
    countries.country_name,
    counties.last_edited_at
from counties
left join states on counties.state_id = states.state_id
left join countries on states.country_id = countries.country_id
