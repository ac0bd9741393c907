with

source as (

    {{ visible_version(source('lake', 'event'), ['event_id'], 'event') }}

),

renamed as (

    select
        event_id,
        yelp_event_id,
        event_name,
        description,
        event_category_id,
        county_id,
        starts_at,
        ends_at,
        cost,
        cost_max,
        is_free,
        is_canceled,
        attending_count,
        interested_count,
        event_site_url,
        latitude,
        longitude,
        last_surveyed_on,
        last_edited_at

    from source

)

select * from renamed
