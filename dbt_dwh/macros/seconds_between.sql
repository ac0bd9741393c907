{# Seconds from one timestamp to another (dbt's datediff, named for the lint config). #}
{% macro seconds_between(first_at, last_at) -%}
    {{ dbt.datediff(first_at, last_at, 'second') }}
{%- endmacro %}
