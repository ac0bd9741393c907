{{ config(unique_key='county_id', indexes=[{'columns': ['state_id']}]) }}

with

census as (

    select distinct
        county_name,
        state_name,
        fips_code
    from {{ ref('stg_census__county_population') }}

),

yelp as (

    select distinct
        county_name,
        state_name
    from {{ ref('stg_yelp__businesses') }}
    union
    select distinct
        county_name,
        state_name
    from {{ ref('stg_yelp__events') }}

),

counties as (

    -- the union of both sources; Census gives the FIPS code where it knows the county
    select
        census.fips_code,
        coalesce(census.county_name, yelp.county_name) as county_name,
        coalesce(census.state_name, yelp.state_name) as state_name
    from census
    full outer join yelp
        on census.county_name = yelp.county_name and census.state_name = yelp.state_name

),

page as (

    select * from {{ ref('stg_states__state_abbreviations') }}

),

states as (

    -- the states the page lists now: one it no longer lists keeps its row until no county
    -- refers to it (the sweep, macros/reference_data.sql), and no county may move to it
    select * from {{ ref('state') }}
    where state_code = '??' or state_code in (select page.state_code from page)

),

final as (

    select
        {{ stable_key(['counties.county_name', 'counties.state_name']) }} as county_id,
        counties.county_name,
        coalesce(states.state_id, {{ stable_key(["'??'"]) }}) as state_id,
        counties.fips_code

    from counties
    left join states on counties.state_name = states.state_name

),

hashed as (

    select
        *,
        {{ row_hash(['county_name', 'state_id', 'fips_code']) }} as row_hash
    from final

)

select
    hashed.*,
    {{ changed_at('hashed.row_hash', 'previous') }} as last_edited_at
from hashed
{% if is_incremental() %}
    left join {{ this }} as previous on hashed.county_id = previous.county_id
{% endif %}
