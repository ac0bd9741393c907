{#
  Macros that ask the database or the invocation. The linter has neither: it skips this folder
  (exclude_macros_from_path in .sqlfluff) and takes the stand-ins defined there.
#}

{# oltp.service_request if it exists, else none. #}
{% macro built_service_requests() -%}
    {{ return(adapter.get_relation(
        database=this.database, schema=this.schema, identifier='service_request')) }}
{%- endmacro %}

{# Whether this run is a --full-refresh. #}
{% macro is_full_refresh() -%}
    {{ return(flags.FULL_REFRESH) }}
{%- endmacro %}
