{#
  The lake is append-only (the export only adds files, and a re-run after a crash can add a
  duplicate file): keep one row per key, the one with the latest last_edited_at. Identical
  duplicates tie, and either copy is the same row.

  DuckDB and Postgres have DISTINCT ON (measured in DuckDB: cheaper than a row_number window,
  which also leaves a column to drop); BigQuery filters the window with QUALIFY.
#}
{% macro latest_version(relation, key_columns) -%}
    {{ return(adapter.dispatch('latest_version')(relation, key_columns)) }}
{%- endmacro %}

{% macro default__latest_version(relation, key_columns) -%}
    select distinct on ({{ key_columns | join(', ') }}) *
    from {{ relation }}
    order by {{ key_columns | join(', ') }}, last_edited_at desc
{%- endmacro %}

{% macro bigquery__latest_version(relation, key_columns) -%}
    select *
    from {{ relation }}
    where true
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }} order by last_edited_at desc
    ) = 1
{%- endmacro %}
