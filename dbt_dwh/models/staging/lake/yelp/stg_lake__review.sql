with

source as (

    {{ visible_version(source('lake', 'review'), ['review_id'], 'review') }}

),

renamed as (

    select
        review_id,
        yelp_review_id,
        business_id,
        user_id,
        rating,
        review_text,
        created_at,
        url,
        last_surveyed_on,
        last_edited_at

    from source

)

select * from renamed
