with

source as (

    select * from {{ source('raw_yelp', 'reviews') }}

),

renamed as (

    select
        id as yelp_review_id,
        business_id as yelp_business_id,
        user_id as yelp_user_id,
        user_name,
        user_profile_url,
        user_image_url,
        cast(rating as integer) as rating,
        text as review_text,
        time_created as created_at,
        url,
        surveyed_on,
        extracted_at

    from source

)

select * from renamed
