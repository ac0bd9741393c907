{{
    config(
        materialized='incremental',
        unique_key=['county_key', 'estimation_year'],
        incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
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
        population - lag(population) over (
            partition by county_id order by estimation_year
        ) as population_change,
        last_edited_at
    from growth

)

select * from changes
{% if is_incremental() %}
    -- rows changed since the last build (the lag above still sees every year)
    where last_edited_at > (select max(last_edited_at) from {{ this }})
{% endif %}
