{{ config(materialized='incremental', unique_key=['county_key', 'estimation_year']) }}

-- Population per county per estimation year, and the change from the year before.
with

growth as (

    select * from {{ ref('stg_lake__county_growth') }}

),

changes as (

    select
        county_id as county_key,
        estimation_year,
        population,
        last_edited_at,
        population - lag(population) over (
            partition by county_id order by estimation_year
        ) as population_change
    from growth

)

select
    changes.county_key,
    changes.estimation_year,
    changes.population,
    changes.population_change,
    changes.last_edited_at
from changes
{% if is_incremental() %}
    -- every year of a county with a row changed since the last build: a revised estimate
    -- also changes the next year's population_change (the lag above sees every year)
    where changes.county_key in (
        select changed.county_key
        from changes as changed
        where changed.last_edited_at > (select max(built.last_edited_at) from {{ this }} as built)
    )
{% endif %}
