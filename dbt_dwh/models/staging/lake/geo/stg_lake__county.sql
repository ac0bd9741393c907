with

source as (

    {{ visible_version(source('lake', 'county'), ['county_id'], 'county') }}

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
