-- SCD2 business dimension: one row per version, valid on survey days [valid_from, valid_to).
-- The versions are valid time, derived in the OLTP model from the daily listings
-- (business_version): a day that arrives late lands in its place. Rating and review count move
-- daily (fct_business_holding has them per day); here they are the business's current ones.
with

versions as (

    select * from {{ ref('stg_lake__business_version') }}

),

businesses as (

    select * from {{ ref('stg_lake__business') }}

),

payment_levels as (

    select * from {{ ref('stg_lake__payment_level') }}

),

final as (

    select
        {{ hash_text(tombstone_key('versions', ['business_id', 'valid_from'])) }} as business_key,
        versions.business_id,
        versions.yelp_business_id,
        versions.chain_name,
        versions.alias,
        versions.address1,
        versions.zip_code,
        versions.city_id as location_key,
        versions.business_status,
        versions.is_listed,
        versions.url,
        businesses.rating,
        businesses.review_count,
        versions.phone,
        versions.latitude,
        versions.longitude,
        versions.payment_level_id,
        payment_levels.price_symbol,
        payment_levels.payment_level_name,
        businesses.valid_from as first_seen_on,
        businesses.valid_to as closed_on,
        versions.valid_from,
        coalesce(versions.valid_to, {{ open_end() }}) as valid_to,
        versions.last_edited_at

    from versions
    left join businesses on versions.business_id = businesses.business_id
    left join payment_levels on versions.payment_level_id = payment_levels.payment_level_id

)

select
    *,
    valid_to = {{ open_end() }} as is_current
from final
