with

source as (

    {{ visible_version(
        source('lake', 'business_version'), ['business_id', 'valid_from'], 'business_version'
    ) }}

),

renamed as (

    select
        business_id,
        valid_from,
        valid_to,
        yelp_business_id,
        chain_name,
        alias,
        address1,
        address2,
        address3,
        zip_code,
        city_id,
        business_status,
        is_listed,
        url,
        phone,
        latitude,
        longitude,
        payment_level_id,
        last_edited_at

    from source

)

select * from renamed
