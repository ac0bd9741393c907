with

source as (

    {{ visible_version(source('lake', 'event_category'), ['event_category_id'], 'event_category') }}

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
