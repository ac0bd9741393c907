{# 'Autauga County, Alabama' -> county_name 'Autauga County', state_name 'Alabama'
   (split on the last ', '; a value without one keeps the whole text as county, state null). #}
{% macro split_county(column) -%}
    case when strpos({{ column }}, ', ') > 0
         then left({{ column }}, length({{ column }}) - strpos(reverse({{ column }}), ' ,') - 1)
         else {{ column }} end as county_name,
    case when strpos({{ column }}, ', ') > 0
         then right({{ column }}, strpos(reverse({{ column }}), ' ,') - 1) end as state_name
{%- endmacro %}
