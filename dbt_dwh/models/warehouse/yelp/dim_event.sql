-- Events with their category folded in, located by county.
with

events as (

    select * from {{ ref('stg_lake__event') }}

),

categories as (

    select * from {{ ref('stg_lake__event_category') }}

)

select
    events.event_id as event_key,
    events.yelp_event_id,
    events.event_name,
    categories.category_name as event_category,
    events.county_id as county_key,
    events.starts_at,
    events.ends_at,
    events.cost,
    events.cost_max,
    events.is_free,
    events.is_canceled,
    events.attending_count,
    events.interested_count,
    events.event_site_url,
    events.last_edited_at
from events
left join categories on events.event_category_id = categories.event_category_id
