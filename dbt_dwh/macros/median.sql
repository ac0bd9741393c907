{# The median of an expression, spelled per warehouse (dbt has no cross-database macro). #}
{% macro median(expression) -%}{{ return(adapter.dispatch('median')(expression)) }}{%- endmacro %}
{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}
{% macro duckdb__median(expression) -%}median({{ expression }}){%- endmacro %}
{#
  BigQuery has no exact median aggregate (percentile_cont is analytic only; approx_quantiles
  returns one of the inputs, not the mean of the two middle ones). The sorted values' middle
  one, or the mean of the middle two, as DuckDB's median and Postgres' percentile_cont give.
  The parentheses around div's first argument change nothing on BigQuery; the local emulator
  (bqemulator 1.4.0) translates div(a - 1, 2) to a - 1 // 2 without them.
#}
{% macro bigquery__median(expression) -%}
    (
        array_agg({{ expression }} ignore nulls order by {{ expression }})[
            safe_offset(div((count({{ expression }}) - 1), 2))
        ]
        + array_agg({{ expression }} ignore nulls order by {{ expression }})[
            safe_offset(div(count({{ expression }}), 2))
        ]
    ) / 2
{%- endmacro %}
