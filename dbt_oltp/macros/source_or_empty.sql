{#
  A source that may not be loaded yet: the 311 source is loaded by its own jobs (yearly full
  loads, daily updates), so the rest of the OLTP model must build before its first load.
  Selects the source when its table exists, otherwise no rows of the declared `columns`
  ({name: type}). The source() call outside the branch keeps the lineage edge at parse time.
#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set found = none -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        ) -%}
    {%- endif -%}
    {%- if found is not none -%}
    select {{ columns.keys() | join(', ') }} from {{ relation }}
    {%- else -%}
    select
        {%- for name, type in columns.items() %}
        cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    where false
    {%- endif -%}
{%- endmacro %}
