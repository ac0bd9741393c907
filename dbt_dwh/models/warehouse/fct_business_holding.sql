{{ config(materialized='incremental', unique_key=['business_id', 'surveyed_on']) }}

-- One row per business per survey day, joined to the business version valid that day.
-- Dagster's daily partitions pass the days to (re)build as vars min_day/max_day (inclusive);
-- without them an incremental build takes the newest built day again and anything newer.
{% set min_day = var('min_day', none) %}
{% set max_day = var('max_day', none) %}
with

holdings as (

    select staged.* from {{ ref('stg_lake__business_holding') }} as staged
    {% if min_day and max_day %}
        where
            staged.surveyed_on >= cast('{{ min_day }}' as date)
            and staged.surveyed_on <= cast('{{ max_day }}' as date)
    {% elif is_incremental() %}
        where staged.surveyed_on >= (select max(built.surveyed_on) from {{ this }} as built)
    {% endif %}

),

versions as (

    select * from {{ ref('dim_business') }}

)

select
    versions.business_key,
    holdings.business_id,
    holdings.surveyed_on,
    {{ date_key('holdings.surveyed_on') }} as date_key,
    holdings.rating,
    holdings.review_count,
    holdings.last_edited_at
from holdings
left join versions
    on
        holdings.business_id = versions.business_id
        and holdings.surveyed_on >= versions.valid_from
        and holdings.surveyed_on < versions.valid_to
