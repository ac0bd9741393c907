{# '$'..'$$$$' -> 1..4; anything else (absent, other currencies) -> 0, the 'Unknown' level. #}
{% macro payment_level_id(column) -%}
    case {{ column }} when '$' then 1 when '$$' then 2 when '$$$' then 3 when '$$$$' then 4
         else 0 end
{%- endmacro %}
