with

source as (

    {{ visible_version(source('lake', 'business'), ['business_id'], 'business') }}

),

renamed as (

    select
        business_id,
        yelp_business_id,
        chain_name,
        alias,
        address1,
        address2,
        address3,
        zip_code,
        city_id,
        business_status,
        url,
        rating,
        review_count,
        phone,
        latitude,
        longitude,
        payment_level_id,
        valid_from,
        valid_to,
        last_surveyed_on,
        last_edited_at

    from source

)

select * from renamed
