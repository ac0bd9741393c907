{# The median of an expression, spelled per warehouse (dbt has no cross-database macro). #}
{% macro median(expression) -%}{{ return(adapter.dispatch('median')(expression)) }}{%- endmacro %}
{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}
{% macro duckdb__median(expression) -%}median({{ expression }}){%- endmacro %}
{% macro bigquery__median(expression) -%}
    approx_quantiles({{ expression }}, 100)[offset(50)]
{%- endmacro %}
