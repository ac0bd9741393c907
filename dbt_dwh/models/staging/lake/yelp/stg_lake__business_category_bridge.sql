with

source as (

    {{ visible_version(
        source('lake', 'business_category_bridge'), ['business_id', 'category_id', 'valid_from'], 'business_category_bridge'
    ) }}

),

renamed as (

    select
        business_id,
        category_id,
        valid_from,
        valid_to,
        last_edited_at

    from source

)

select * from renamed
