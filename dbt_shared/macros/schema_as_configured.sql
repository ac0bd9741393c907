{#
  A model's +schema used as it is (`oltp`, `dwh`, `marts`), not prefixed with the target schema;
  the target's schema when a model sets none.

  dbt calls only the root project's generate_schema_name for the root project's models (an
  installed package's override applies to that package's own models), so each project keeps a
  one-line generate_schema_name that calls this macro.
#}
{% macro schema_as_configured(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ return(target.schema) }}{%- else -%}{{ return(custom_schema_name | trim) }}{%- endif -%}
{%- endmacro %}
