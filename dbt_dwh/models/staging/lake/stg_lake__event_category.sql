with

source as (

    {{ latest_version(source('lake', 'event_category'), ['event_category_id']) }}

),

renamed as (

    select
        event_category_id,
        category_alias,
        category_name,
        last_edited_at

    from source

)

select * from renamed
