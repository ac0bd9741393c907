with

source as (

    {{ visible_version(source('lake', 'business_category'), ['category_id'], 'business_category') }}

),

renamed as (

    select
        category_id,
        category_alias,
        category_title,
        valid_from,
        valid_to,
        last_seen_on,
        last_edited_at

    from source

)

select * from renamed
