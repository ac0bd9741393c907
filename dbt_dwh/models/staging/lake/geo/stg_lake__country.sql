with

source as (

    {{ latest_version(source('lake', 'country'), ['country_id']) }}

),

renamed as (

    select
        country_id,
        country_code,
        country_name,
        last_edited_at

    from source

)

select * from renamed
