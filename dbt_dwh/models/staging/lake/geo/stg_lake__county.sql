with

source as (

    {{ latest_version(source('lake', 'county'), ['county_id']) }}

),

renamed as (

    select
        county_id,
        county_name,
        state_id,
        fips_code,
        last_edited_at

    from source

)

select * from renamed
