{#
  An incremental fact's pre-hook: delete its rows whose key the staging view no longer has (the
  OLTP model deleted the row, and its tombstone hides it there). `keys` pairs the fact's key
  columns with the staging view's: [(fact column, staging column), ...]. An anti-join in the
  warehouse engine, as drop_vanished_holdings does for the holdings.
#}
{% macro drop_vanished_rows(staging, keys) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where not exists (
        select 1
        from {{ ref(staging) }} as kept
        where
            {%- for fact_column, staging_column in keys %}
            kept.{{ staging_column }} = {{ this.identifier }}.{{ fact_column }}{{ " and" if not loop.last }}
            {%- endfor %}
    )
    {%- endif -%}
{%- endmacro %}
