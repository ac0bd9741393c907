{#
  A surrogate key derived from natural-key columns: the same natural key always gives the same
  key, so keys never renumber when new rows arrive (a DENSE_RANK over history would).
#}
{% macro stable_key(columns) -%}
    md5(concat_ws('|', {%- for col in columns %} coalesce(cast({{ col }} as text), '~'){{ "," if not loop.last }}{%- endfor %}))
{%- endmacro %}
