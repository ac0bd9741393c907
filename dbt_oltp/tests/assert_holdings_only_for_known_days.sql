-- Every survey day in the raw data has its holdings, and no holding exists for a day never
-- surveyed. Days fold in any order (macros/folding.sql): a row here names a day the last run
-- did not fold; `gourmand materialize --partition <day>` (or any dbt_oltp build) folds it.
-- A check of business_holding in Dagster (it reads two models: dagster-dbt attaches it by ref).
{{ config(meta={'dagster': {'ref': {'name': 'business_holding'}}}) }}

with raw_days as (
    select distinct surveyed_on from {{ ref('stg_yelp__businesses') }}
),

held_days as (
    select distinct surveyed_on from {{ ref('business_holding') }}
)

select
    coalesce(raw_days.surveyed_on, held_days.surveyed_on) as surveyed_on,
    case
        when held_days.surveyed_on is null then 'loaded, not folded: run dbt_oltp'
        else 'held, but no longer in raw_yelp.businesses'
    end as problem
from raw_days
full outer join held_days on raw_days.surveyed_on = held_days.surveyed_on
where raw_days.surveyed_on is null or held_days.surveyed_on is null
