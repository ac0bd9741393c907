{#
  Macros that ask the database or the invocation. The linter has neither: it skips this folder
  (exclude_macros_from_path in .sqlfluff) and takes the stand-ins defined there.
#}

{#
  The newest updated_at of oltp.service_request as text, or none while it does not exist, is
  empty, or dbt is only parsing.
#}
{% macro service_requests_watermark() -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {#- the OLTP schema (the +schema of models/oltp, as the sweep names it too) -#}
    {%- set requests = adapter.get_relation(
        database=this.database, schema='oltp', identifier='service_request') -%}
    {%- if requests is none -%}{{ return(none) }}{%- endif -%}
    {%- set newest = run_query('select max(updated_at)::text from ' ~ requests) -%}
    {{ return(newest.columns[0].values()[0]) }}
{%- endmacro %}

{# Whether this run is a --full-refresh. #}
{% macro is_full_refresh() -%}
    {{ return(flags.FULL_REFRESH) }}
{%- endmacro %}
