with

source as (

    {{ latest_version(source('lake', 'business_category_bridge'), ['business_id', 'category_id']) }}

),

renamed as (

    select
        business_id,
        category_id,
        valid_from,
        valid_to,
        last_seen_on,
        last_edited_at

    from source

)

select * from renamed
