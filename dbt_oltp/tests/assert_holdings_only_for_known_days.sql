-- Every survey day in the raw data has its holdings, and no holding exists for a day never
-- surveyed. Survey days fold in order: a day backfilled after a newer one was folded fails here
-- until `dbt build --full-refresh` (docs/operations.md).
with raw_days as (
    select distinct surveyed_on from {{ ref('stg_yelp__businesses') }}
),

held_days as (
    select distinct surveyed_on from {{ ref('business_holding') }}
)

select coalesce(raw_days.surveyed_on, held_days.surveyed_on) as surveyed_on
from raw_days
full outer join held_days on raw_days.surveyed_on = held_days.surveyed_on
where raw_days.surveyed_on is null or held_days.surveyed_on is null
