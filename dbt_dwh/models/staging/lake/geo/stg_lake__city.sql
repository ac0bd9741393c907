with

source as (

    {{ visible_version(source('lake', 'city'), ['city_id'], 'city') }}

),

renamed as (

    select
        city_id,
        city_name,
        county_id,
        last_edited_at

    from source

)

select * from renamed
