{#
  `last_edited_at` of an incremental model: kept from the existing row when the row's content
  hash is unchanged, the run's start time otherwise. `existing` is the alias of {{ this }}
  joined on the unique key (null on the first build and for new rows).
#}
{% macro changed_at(new_hash, existing) -%}
    {%- if is_incremental() -%}
    case when {{ existing }}.row_hash = {{ new_hash }} then {{ existing }}.last_edited_at
         else cast('{{ run_started_at }}' as timestamp with time zone) end
    {%- else -%}
    cast('{{ run_started_at }}' as timestamp with time zone)
    {%- endif -%}
{%- endmacro %}

{# a row's content hash (the digest of stable_key.sql) #}
{% macro row_hash(columns) -%}{{ column_digest(columns) }}{%- endmacro %}
