-- One row per day from the first to the last day the data mentions (survey days, review dates,
-- 311 requests opened and closed).
with

days_in_data as (

    select surveyed_on as date_day from {{ ref('stg_lake__business_holding') }}
    union all
    select cast(created_at as date) as date_day from {{ ref('stg_lake__review') }}
    union all
    select cast(created_at as date) as date_day from {{ ref('fct_service_request') }}
    union all
    select cast(closed_at as date) as date_day from {{ ref('fct_service_request') }}

),

bounds as (

    select
        min(date_day) as first_day,
        max(date_day) as last_day
    from days_in_data

),

digits as (

    {% for digit in range(10) %}
        select {{ digit }} as digit
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

offsets as (

    -- 0 .. 99,999 days (273 years): plain SQL, so every warehouse builds the spine the same way
    select
        ones.digit
        + 10 * tens.digit
        + 100 * hundreds.digit
        + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_offset
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

days as (

    select {{ add_days('bounds.first_day', 'offsets.day_offset') }} as date_day
    from offsets
    cross join bounds
    where offsets.day_offset <= {{ days_between('bounds.first_day', 'bounds.last_day') }}

)

select
    {{ date_key('date_day') }} as date_key,
    date_day,
    cast(extract(day from date_day) as integer) as day_of_month,
    {{ day_name('date_day') }} as day_name,
    {{ iso_day_of_week('date_day') }} as iso_day_of_week,
    {{ iso_week('date_day') }} as iso_week,
    cast(extract(month from date_day) as integer) as month_of_year,
    {{ month_name('date_day') }} as month_name,
    cast(extract(quarter from date_day) as integer) as quarter_of_year,
    cast(extract(year from date_day) as integer) as year_number,
    {{ month_start('date_day') }} as first_of_month,
    {{ day_of_year('date_day') }} as day_of_year,
    {{ iso_day_of_week('date_day') }} >= 6 as is_weekend
from days
