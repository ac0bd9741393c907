with

source as (

    {{ visible_version(
        source('lake', 'county_growth'), ['county_id', 'estimation_year'], 'county_growth'
    ) }}

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
