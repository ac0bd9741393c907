-- SCD2 business dimension: one row per version, valid on survey days [valid_from, valid_to).
with

versions as (

    select * from {{ ref('snap_business') }}

),

payment_levels as (

    select * from {{ ref('stg_lake__payment_level') }}

),

numbered as (

    select
        *,
        row_number() over (partition by business_id order by dbt_valid_from) as version_number
    from versions

),

started as (

    -- a version holds from the survey day that brought it: the first version from the day the
    -- business was first seen (so every holding has a version), a closure from the first day
    -- the business was no longer listed (its valid_to), any other change from the day it was
    -- surveyed with the new content
    select
        *,
        case
            when version_number = 1 then valid_from
            when valid_to is not null then valid_to
            else last_surveyed_on
        end as version_valid_from
    from numbered

),

one_per_day as (

    -- versions folded in on the same survey day (a re-run that changed content): the last wins
    select *
    from (
        select
            *,
            row_number() over (
                partition by business_id, version_valid_from order by dbt_valid_from desc
            ) as same_day_rank
        from started
    ) as ranked
    where same_day_rank = 1

),

final as (

    select
        one_per_day.dbt_scd_id as business_key,
        one_per_day.business_id,
        one_per_day.yelp_business_id,
        one_per_day.chain_name,
        one_per_day.alias,
        one_per_day.address1,
        one_per_day.zip_code,
        one_per_day.city_id as location_key,
        one_per_day.business_status,
        one_per_day.url,
        one_per_day.rating,
        one_per_day.review_count,
        one_per_day.phone,
        one_per_day.latitude,
        one_per_day.longitude,
        one_per_day.payment_level_id,
        payment_levels.price_symbol,
        payment_levels.payment_level_name,
        one_per_day.valid_from as first_seen_on,
        one_per_day.valid_to as closed_on,
        one_per_day.version_valid_from as valid_from,
        coalesce(
            lead(one_per_day.version_valid_from) over (
                partition by one_per_day.business_id order by one_per_day.version_valid_from
            ),
            {{ open_end() }}
        ) as valid_to,
        one_per_day.last_edited_at

    from one_per_day
    left join payment_levels on one_per_day.payment_level_id = payment_levels.payment_level_id

)

select
    *,
    valid_to = {{ open_end() }} as is_current
from final
