-- One row per day from the first to the last day the data mentions (survey days, review dates).
with

days_in_data as (

    select surveyed_on as date_day from {{ ref('stg_lake__business_holding') }}
    union all
    select cast(created_at as date) as date_day from {{ ref('stg_lake__review') }}

),

bounds as (

    select
        min(date_day) as first_day,
        max(date_day) as last_day
    from days_in_data

),

digits as (

    select 0 as digit union all select 1 union all select 2 union all select 3
    union all select 4 union all select 5 union all select 6 union all select 7
    union all select 8 union all select 9

),

offsets as (

    -- 0 .. 99,999 days (273 years): plain SQL, so every warehouse builds the spine the same way
    select ones.digit + 10 * tens.digit + 100 * hundreds.digit + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_offset
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

days as (

    select cast({{ dbt.dateadd('day', 'offsets.day_offset', 'bounds.first_day') }} as date)
        as date_day
    from offsets
    cross join bounds
    where offsets.day_offset <= {{ dbt.datediff('bounds.first_day', 'bounds.last_day', 'day') }}

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
    cast({{ dbt.date_trunc('month', 'date_day') }} as date) as first_of_month,
    {{ day_of_year('date_day') }} as day_of_year,
    {{ iso_day_of_week('date_day') }} >= 6 as is_weekend
from days
