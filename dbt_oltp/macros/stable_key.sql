{#
  One digest of a list of columns (nulls as '~', '|' between values), for two uses:
  stable_key: a surrogate key derived from natural-key columns: the same natural key always
  gives the same key, so keys never renumber when new rows arrive (a DENSE_RANK over history
  would); row_hash (changed_at.sql): a row's content, to tell a changed row from an unchanged one.
#}
{% macro column_digest(columns) -%}
    md5(concat_ws('|', {%- for col in columns %} coalesce(cast({{ col }} as text), '~'){{ "," if not loop.last }}{%- endfor %}))
{%- endmacro %}

{% macro stable_key(columns) -%}{{ column_digest(columns) }}{%- endmacro %}
