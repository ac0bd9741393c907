with

source as (

    {{ latest_version(source('lake', 'county_growth'), ['county_id', 'estimation_year']) }}

),

renamed as (

    select
        county_id,
        estimation_year,
        population,
        last_edited_at

    from source

)

select * from renamed
