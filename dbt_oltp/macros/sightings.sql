{#
  When each natural key was seen in the survey days of the incremental window, and whether it
  is gone from the newest day: then valid_to = the day after it was last seen (soft delete).
  Used for categories, transaction types and both bridges.
#}
{% macro sightings(relation, natural_keys, attributes=[]) -%}
    with

    window_rows as (
        select * from {{ relation }}
        {{ since_last_folded('surveyed_on', 'last_seen_on') }}
    ),

    last_day as (
        select max(surveyed_on) as surveyed_on from window_rows
    ),

    seen as (
        select
            {% for col in natural_keys %}{{ col }},{% endfor %}
            {% for col in attributes %}max({{ col }}) as {{ col }},{% endfor %}
            min(surveyed_on) as first_seen_on,
            max(surveyed_on) as last_seen_on
        from window_rows
        group by {{ natural_keys | join(', ') }}
    )

    select
        seen.*,
        case
            when seen.last_seen_on < last_day.surveyed_on then seen.last_seen_on + 1
        end as valid_to
    from seen
    cross join last_day
{%- endmacro %}

{# valid_from survives incremental runs: the first day ever seen, not the window's first. #}
{% macro kept_valid_from(new_alias, existing) -%}
    {%- if is_incremental() -%}
    coalesce({{ existing }}.valid_from, {{ new_alias }}.first_seen_on)
    {%- else -%}
    {{ new_alias }}.first_seen_on
    {%- endif -%}
{%- endmacro %}
