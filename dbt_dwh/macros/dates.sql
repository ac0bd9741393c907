{#
  Calendar parts the three warehouses spell differently (dbt's cross-database macros cover
  date_trunc, dateadd and the spine, not names or ISO weeks). The default is Postgres.
#}
{% macro day_name(day) -%}{{ return(adapter.dispatch('day_name')(day)) }}{%- endmacro %}
{% macro default__day_name(day) -%}trim(to_char({{ day }}, 'Day')){%- endmacro %}
{% macro duckdb__day_name(day) -%}dayname({{ day }}){%- endmacro %}
{% macro bigquery__day_name(day) -%}format_date('%A', {{ day }}){%- endmacro %}

{% macro month_name(day) -%}{{ return(adapter.dispatch('month_name')(day)) }}{%- endmacro %}
{% macro default__month_name(day) -%}trim(to_char({{ day }}, 'Month')){%- endmacro %}
{% macro duckdb__month_name(day) -%}monthname({{ day }}){%- endmacro %}
{% macro bigquery__month_name(day) -%}format_date('%B', {{ day }}){%- endmacro %}

{% macro iso_week(day) -%}{{ return(adapter.dispatch('iso_week')(day)) }}{%- endmacro %}
{% macro default__iso_week(day) -%}cast(extract(week from {{ day }}) as integer){%- endmacro %}
{% macro bigquery__iso_week(day) -%}extract(isoweek from {{ day }}){%- endmacro %}

{# ISO day of week, Monday = 1 .. Sunday = 7 #}
{% macro iso_day_of_week(day) -%}{{ return(adapter.dispatch('iso_day_of_week')(day)) }}{%- endmacro %}
{% macro default__iso_day_of_week(day) -%}cast(extract(isodow from {{ day }}) as integer){%- endmacro %}
{% macro bigquery__iso_day_of_week(day) -%}mod(extract(dayofweek from {{ day }}) + 5, 7) + 1{%- endmacro %}

{% macro day_of_year(day) -%}{{ return(adapter.dispatch('day_of_year')(day)) }}{%- endmacro %}
{% macro default__day_of_year(day) -%}cast(extract(doy from {{ day }}) as integer){%- endmacro %}
{% macro bigquery__day_of_year(day) -%}extract(dayofyear from {{ day }}){%- endmacro %}

{# yyyymmdd as an integer: the date dimension's key #}
{% macro date_key(day) -%}
    cast(extract(year from {{ day }}) * 10000 + extract(month from {{ day }}) * 100
         + extract(day from {{ day }}) as integer)
{%- endmacro %}

{# The far end of an open interval, so interval joins need no null handling #}
{% macro open_end() -%}cast('9999-12-31' as date){%- endmacro %}

{# dbt's cross-database date arithmetic, under names the linter can stand in for #}
{% macro add_days(day, days) -%}cast({{ dbt.dateadd('day', days, day) }} as date){%- endmacro %}
{% macro days_between(first_day, last_day) -%}{{ dbt.datediff(first_day, last_day, 'day') }}{%- endmacro %}
{% macro month_start(day) -%}cast({{ dbt.date_trunc('month', day) }} as date){%- endmacro %}

{# The UTC calendar day of an instant, whatever the session's time zone (HR hires are counted
   per UTC year and quarter, as the files state them) #}
{% macro utc_date(instant) -%}{{ return(adapter.dispatch('utc_date')(instant)) }}{%- endmacro %}
{% macro default__utc_date(instant) -%}cast(({{ instant }}) at time zone 'UTC' as date){%- endmacro %}
{% macro bigquery__utc_date(instant) -%}date({{ instant }}, 'UTC'){%- endmacro %}

{# An instant before any data: the start of an incremental model's first comparison. #}
{% macro long_ago() -%}cast('1900-01-01 00:00:00+00' as {{ timestamptz_type() }}){%- endmacro %}
