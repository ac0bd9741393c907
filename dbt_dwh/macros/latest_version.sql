{#
  The lake is append-only (the export only adds files, and a re-run after a crash can add a
  duplicate file): keep one row per key, the one with the latest last_edited_at. Identical
  duplicates tie, and either copy is the same row.
#}
{% macro latest_version(relation, key_columns) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by last_edited_at desc
            ) as version_rank
        from {{ relation }}
    ) as versions
    where version_rank = 1
{%- endmacro %}
