{#
  fct_business_holding's pre-hook: delete the facts whose holding the lake no longer has (the
  OLTP model deleted it when a survey day loaded again no longer listed the business, and the
  tombstone hides it in stg_lake__business_holding). An anti-join on the two keys, in the
  warehouse engine: cheap next to the incremental build itself.
#}
{% macro drop_vanished_holdings() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where not exists (
        select 1
        from {{ ref('stg_lake__business_holding') }} as kept
        where
            kept.business_id = {{ this.identifier }}.business_id
            and kept.surveyed_on = {{ this.identifier }}.surveyed_on
    )
    {%- endif -%}
{%- endmacro %}
