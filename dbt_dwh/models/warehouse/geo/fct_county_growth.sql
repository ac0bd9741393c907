{{
    config(
        materialized='incremental',
        unique_key=['county_key', 'estimation_year'],
        pre_hook="{{ drop_vanished_rows(
            'stg_lake__county_growth',
            [('county_key', 'county_id'), ('estimation_year', 'estimation_year')],
        ) }}",
    )
}}

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
    -- the rows that differ from what is built, whatever the order the changes came in: a
    -- revised estimate, and the next year's population_change (the lag above sees every year),
    -- also when the year before is one the Census no longer gives (its row went in the
    -- pre-hook, drop_vanished_rows); a small table, compared whole
    where not exists (
        select 1
        from {{ this }} as built
        where
            built.county_key = changes.county_key
            and built.estimation_year = changes.estimation_year
            and built.population = changes.population
            and built.last_edited_at = changes.last_edited_at
            and (
                built.population_change = changes.population_change
                or (built.population_change is null and changes.population_change is null)
            )
    )
{% endif %}
