with

source as (

    select * from {{ source('raw_yelp', 'events') }}

),

renamed as (

    select
        id as yelp_event_id,
        name as event_name,
        description,
        category as category_alias,
        {{ split_county('search_location') }},
        business_id as yelp_business_id,
        cast(time_start as timestamp with time zone) as starts_at,
        cast(time_end as timestamp with time zone) as ends_at,
        cost,
        cost_max,
        coalesce(is_free, false) as is_free,
        coalesce(is_canceled, false) as is_canceled,
        attending_count,
        interested_count,
        event_site_url,
        latitude,
        longitude,
        surveyed_on,
        extracted_at

    from source

)

select * from renamed
