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
