{#
  A lake table that may have no files yet: the 311 tables stay empty until the first 311 load,
  and the export writes no file for an empty table, while read_parquet fails on a glob that
  matches nothing. Selects the table when it has data, otherwise no rows of `columns`
  ({name: kind}, kinds as column_type() names them); the source() call outside the branch keeps the lineage edge at parse time.
#}
{% macro lake_or_empty(table_name, columns) -%}
    {%- set relation = source('lake', table_name) -%}
    {%- if not execute or lake_has_table(relation, table_name) -%}
    select {{ columns.keys() | join(', ') }} from {{ relation }}
    {%- else -%}
    select
        {%- for name, type in columns.items() %}
        cast(null as {{ column_type(type) }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from (select 1 as one) as no_rows
    where false
    {%- endif -%}
{%- endmacro %}

{% macro lake_has_table(relation, table_name) -%}
    {{ return(adapter.dispatch('lake_has_table')(relation, table_name)) }}
{%- endmacro %}

{# Postgres and BigQuery read the lake from tables the warehouse loader made: is there one? #}
{% macro default__lake_has_table(relation, table_name) -%}
    {%- set found = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) -%}
    {{ return(found is not none) }}
{%- endmacro %}

{# BigQuery reads lake tables loaded into the warehouse, as Postgres does. #}
{% macro bigquery__lake_has_table(relation, table_name) -%}
    {{ return(default__lake_has_table(relation, table_name)) }}
{%- endmacro %}

{# DuckDB reads the files in place: does the table's folder hold any? #}
{% macro duckdb__lake_has_table(relation, table_name) -%}
    {%- set files = run_query(
        "select count(*) from glob('" ~ lake_root(table_name) ~ "/oltp/" ~ table_name ~ "/*.parquet')"
    ) -%}
    {{ return(files.columns[0].values()[0] > 0) }}
{%- endmacro %}

{# A column type for the empty branches, spelled per warehouse: string, bigint, float, boolean,
   timestamptz. #}
{% macro column_type(kind) -%}
    {%- if kind == 'timestamptz' -%}{{ timestamptz_type() }}
    {%- elif kind == 'string' -%}{{ dbt.type_string() }}
    {%- elif kind == 'bigint' -%}{{ dbt.type_bigint() }}
    {%- elif kind == 'float' -%}{{ double_type() }}
    {%- elif kind == 'boolean' -%}{{ dbt.type_boolean() }}
    {%- else -%}{{ exceptions.raise_compiler_error('unknown column kind ' ~ kind) }}
    {%- endif -%}
{%- endmacro %}
{#
  The lake's floats are Parquet doubles. dbt's type_float() is `float`, which DuckDB reads as a
  4-byte REAL: an incremental table first built from the empty branch (fct_service_request before
  the first 311 load) kept REAL columns, and every later latitude lost its digits, so a home
  whose warehouse was built before its first 311 load differed from one built after.
#}
{% macro double_type() -%}{{ return(adapter.dispatch('double_type')()) }}{%- endmacro %}
{% macro default__double_type() -%}double precision{%- endmacro %}
{% macro duckdb__double_type() -%}double{%- endmacro %}
{% macro bigquery__double_type() -%}float64{%- endmacro %}
{% macro timestamptz_type() -%}{{ return(adapter.dispatch('timestamptz_type')()) }}{%- endmacro %}
{% macro default__timestamptz_type() -%}timestamp with time zone{%- endmacro %}
{% macro bigquery__timestamptz_type() -%}timestamp{%- endmacro %}

{# The lake's root as the lake source resolved it (its meta `lake_root`, _lake__sources.yml). #}
{% macro lake_root(table_name) -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.lake.' ~ table_name] -%}
    {{ return(node.config.meta.get('lake_root') or node.meta.get('lake_root')) }}
{%- endmacro %}
