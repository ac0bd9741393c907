{#
  Incremental window: only survey days not folded in yet, plus the last folded day again (so a
  re-run of that day updates it). An incremental day costs that day's rows, not the history.
#}
{% macro since_last_folded(day_column, folded_column) -%}
    {%- if is_incremental() -%}
    where {{ day_column }} >= (
        select coalesce(max({{ folded_column }}), date '1900-01-01') from {{ this }}
    )
    {%- endif -%}
{%- endmacro %}
