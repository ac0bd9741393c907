with

source as (

    {{ visible_version(source('lake', 'user'), ['user_id'], 'user') }}

),

renamed as (

    select
        user_id,
        yelp_user_id,
        user_name,
        profile_url,
        image_url,
        last_surveyed_on,
        last_edited_at

    from source

)

select * from renamed
