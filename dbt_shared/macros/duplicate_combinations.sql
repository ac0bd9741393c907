{# Rows whose combination of `columns` appears more than once (a composite key check): the query
   of both projects' `unique_combination` generic test. #}
{% macro duplicate_combinations(model, columns) %}

select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endmacro %}
