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
        cast(estimate_year as integer) as estimation_year,
        cast(pop as bigint) as population,
        extracted_at,
        state_fips || county_fips as fips_code

    from source
    -- DATE_CODE 1 and 2 are April-2010 counts, not yearly July-1 estimates
    where estimate_year is not null

)

select * from renamed
