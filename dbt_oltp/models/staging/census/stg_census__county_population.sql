with

source as (

    select * from {{ source('raw_census', 'county_population') }}

),

renamed as (

    select
        state_fips,
        county_fips,
        county_name,
        state_name,
        cast(vintage as integer) as vintage,
        cast(estimate_year as integer) as estimation_year,
        cast(pop as bigint) as population,
        extracted_at,
        state_fips || county_fips as fips_code

    from source
    -- DATE_CODE 1 and 2 are April-2010 counts, not yearly July-1 estimates
    where estimate_year is not null

),

newest as (

    -- one estimate per county and year: the newest vintage's (each vintage re-estimates the
    -- years before it), whatever order the vintages were loaded in
    select distinct on (fips_code, estimation_year) *
    from renamed
    order by fips_code asc, estimation_year asc, vintage desc

)

select * from newest
