{# dbt uses the root project's override only: this one is the shared rule (dbt_shared/macros). #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ return(gourmand_shared.schema_as_configured(custom_schema_name, node)) }}
{%- endmacro %}
