-- One row per day of a fixed calendar (vars date_spine_start / date_spine_end, inclusive), not
-- of the days the data mentions: then dim_date depends on no fact, and each source's chain (the
-- daily Yelp graph, the 311 jobs) can rebuild it without the other's tables. The facts'
-- relationship tests fail if a day falls outside it.
{% set first_day = var('date_spine_start', '2000-01-01') %}
{% set last_day = var('date_spine_end', '2035-12-31') %}
with

bounds as (

    select
        cast('{{ first_day }}' as date) as first_day,
        cast('{{ last_day }}' as date) as last_day

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
