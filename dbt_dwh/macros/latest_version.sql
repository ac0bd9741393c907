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

{#
  The lake as the warehouse reads an OLTP table the OLTP model deletes rows from (the Yelp
  tables: a survey day loaded again can take a business, a holding or a link away): the latest
  version of each key, unless a tombstone (stg_lake__deleted_rows) deleted the key after that
  version was written. A key written again after its tombstone is visible again.
#}
{% macro visible_version(relation, key_columns, table_name) -%}
    select *
    from ({{ latest_version(relation, key_columns) }}) as latest_rows
    where not exists (
        select 1
        from {{ ref('stg_lake__deleted_rows') }} as gone
        where
            gone.table_name = '{{ table_name }}'
            and gone.row_key = {{ tombstone_key('latest_rows', key_columns) }}
            and gone.deleted_at >= latest_rows.last_edited_at
    )
{%- endmacro %}

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
