{{
    config(
        unique_key='business_id',
        indexes=[
            {'columns': ['city_id']},
            {'columns': ['payment_level_id']},
            {'columns': ['yelp_business_id'], 'unique': True},
            {'columns': ['last_edited_at']},
        ],
    )
}}

with

snapshots as (

    select * from {{ ref('stg_yelp__businesses') }}
    {{ since_last_folded('surveyed_on', 'last_surveyed_on') }}

),

last_day as (

    select max(surveyed_on) as surveyed_on from snapshots

),

latest as (

    -- the latest version of each business
    select distinct on (yelp_business_id) *
    from snapshots
    order by yelp_business_id asc, surveyed_on desc, extracted_at desc

),

first_seen as (

    select
        yelp_business_id,
        min(surveyed_on) as valid_from
    from snapshots
    group by yelp_business_id

),

final as (

    select
        {{ stable_key(['latest.yelp_business_id']) }} as business_id,
        latest.yelp_business_id,
        latest.chain_name,
        latest.alias,
        latest.address1,
        latest.address2,
        latest.address3,
        latest.zip_code,
        {{ stable_key(["coalesce(latest.city_name, 'Unknown')", 'latest.county_name',
                       'latest.state_name']) }} as city_id,
        -- listed on the newest survey day: open; gone from it: closed (soft delete)
        case
            when latest.surveyed_on < last_day.surveyed_on or latest.is_closed then 'closed'
            else 'open'
        end as business_status,
        latest.url,
        latest.rating,
        latest.review_count,
        latest.phone,
        latest.latitude,
        latest.longitude,
        latest.payment_level_id,
        first_seen.valid_from,
        case
            when latest.surveyed_on < last_day.surveyed_on then latest.surveyed_on + 1
        end as valid_to,
        latest.surveyed_on as last_surveyed_on

    from latest
    cross join last_day
    inner join first_seen on latest.yelp_business_id = first_seen.yelp_business_id

),

hashed as (

    select
        *,
        {{ row_hash([
            'chain_name', 'alias', 'address1', 'address2', 'address3', 'zip_code', 'city_id',
            'business_status', 'url', 'rating', 'review_count', 'phone', 'latitude',
            'longitude', 'payment_level_id', 'valid_to',
        ]) }} as row_hash
    from final

)

select
    hashed.business_id,
    hashed.yelp_business_id,
    hashed.chain_name,
    hashed.alias,
    hashed.address1,
    hashed.address2,
    hashed.address3,
    hashed.zip_code,
    hashed.city_id,
    hashed.business_status,
    hashed.url,
    hashed.rating,
    hashed.review_count,
    hashed.phone,
    hashed.latitude,
    hashed.longitude,
    hashed.payment_level_id,
    {% if is_incremental() %}
        coalesce(previous.valid_from, hashed.valid_from) as valid_from,
    {% else %}
        hashed.valid_from,
    {% endif %}
    hashed.valid_to,
    hashed.last_surveyed_on,
    hashed.row_hash,
    {{ changed_at('hashed.row_hash', 'previous') }} as last_edited_at
from hashed
{% if is_incremental() %}
    left join {{ this }} as previous on hashed.business_id = previous.business_id
{% endif %}
