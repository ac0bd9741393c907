{# A row's key as one text, as dbt_oltp's tombstones spell it: key columns joined with '|'. #}
{% macro tombstone_key(alias, columns) -%}
    {{ return(adapter.dispatch('tombstone_key')(alias, columns)) }}
{%- endmacro %}

{% macro default__tombstone_key(alias, columns) -%}
    concat_ws('|', {%- for col in columns %} cast({{ alias }}.{{ col }} as varchar){{ "," if not loop.last }}{%- endfor %})
{%- endmacro %}

{% macro bigquery__tombstone_key(alias, columns) -%}
    array_to_string([{%- for col in columns %}cast({{ alias }}.{{ col }} as string){{ ", " if not loop.last }}{%- endfor %}], '|')
{%- endmacro %}

{# md5 of a text, as hex text on every warehouse (dbt's cross-database hash, under a name the
   linter can stand in for) #}
{% macro hash_text(expression) -%}{{ dbt.hash(expression) }}{%- endmacro %}
