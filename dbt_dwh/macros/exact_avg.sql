{#
  The mean of a number, the same to the last digit in every build of the same rows.

  avg() of a float adds the values in whatever order the engine's threads finish (DuckDB's
  parallel aggregation, Postgres's parallel workers), and float addition is not associative:
  two builds of the same LA 311 rows gave a mean days to close of 4.1393701293304135 and
  4.139370129330398, so an extract taken from one build no longer equalled the mart of the
  next. Summed as a decimal, the sum is exact in any order; the mean comes back as a double
  on every warehouse, as the float's avg() did.
#}
{% macro exact_avg(expression) -%}
    {{ return(adapter.dispatch('exact_avg')(expression)) }}
{%- endmacro %}
{% macro default__exact_avg(expression) -%}
    {{ as_double('avg(' ~ as_exact_decimal(expression) ~ ')') }}
{%- endmacro %}
{#
  BigQuery: the float mean rounded to 9 places, which two builds give alike unless it lies
  within about 1e-15 of a rounding boundary. NUMERIC(38, 9) would be exact on BigQuery, but the
  local emulator casts a table's float column to it with fewer places (11.2316 for a mean of
  11.23165, measured), so the tests could not check it.
#}
{% macro bigquery__exact_avg(expression) -%}
    round(avg({{ expression }}), 9)
{%- endmacro %}

{# A total of numbers, exact in any order (see exact_avg); a decimal. #}
{% macro exact_sum(expression) -%}
    sum({{ as_exact_decimal(expression) }})
{%- endmacro %}

{#
  Not dbt's type_numeric() and type_float(): type_numeric() is numeric(28, 6) on DuckDB and
  Postgres (6 places) and a plain NUMERIC on BigQuery (3 places in the emulator); type_float()
  is `float` on DuckDB, a 4-byte real there.
#}
{% macro as_exact_decimal(expression) -%}
    {{ return(adapter.dispatch('as_exact_decimal')(expression)) }}
{%- endmacro %}
{# Postgres's numeric has no fixed scale. #}
{% macro default__as_exact_decimal(expression) -%}
    cast({{ expression }} as numeric)
{%- endmacro %}
{#
  BigQuery's NUMERIC keeps 9 decimal places; spelled with them, as the local emulator (which
  translates a plain NUMERIC to a 3-place decimal) needs too. Exact for the values it is used
  on here (ratings in halves).
#}
{% macro bigquery__as_exact_decimal(expression) -%}
    cast({{ expression }} as numeric(38, 9))
{%- endmacro %}
{# DuckDB's plain numeric is decimal(18, 3): the scale is given. #}
{% macro duckdb__as_exact_decimal(expression) -%}
    cast({{ expression }} as decimal(38, 9))
{%- endmacro %}

{% macro as_double(expression) -%}
    {{ return(adapter.dispatch('as_double')(expression)) }}
{%- endmacro %}
{% macro default__as_double(expression) -%}
    cast({{ expression }} as double precision)
{%- endmacro %}
{% macro duckdb__as_double(expression) -%}
    cast({{ expression }} as double)
{%- endmacro %}
{% macro bigquery__as_double(expression) -%}
    cast({{ expression }} as float64)
{%- endmacro %}
