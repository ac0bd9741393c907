{# A composite key check; the query is the shared one (dbt_shared/macros). The test is declared
   here because dbt compiles an unprefixed generic test with the root project's own macros: one
   declared in the package would be `gourmand_shared.unique_combination` in every YAML, which
   renames each of those tests (and its Dagster asset check). #}
{% test unique_combination(model, columns) %}
    {{ gourmand_shared.duplicate_combinations(model, columns) }}
{% endtest %}
