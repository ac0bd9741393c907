{#
  A bridge from business versions to another dimension: each link of the OLTP bridge (valid on
  its own survey-day interval) meets each dim_business version it overlaps, and holds on the
  intersection of the two intervals.
#}
{% macro versioned_bridge(links, other_id, other_key) -%}
with

links as (

    select * from {{ links }}

),

versions as (

    select * from {{ ref('dim_business') }}

),

overlapping as (

    select
        versions.business_key,
        links.{{ other_id }} as {{ other_key }},
        case
            when links.valid_from > versions.valid_from then links.valid_from
            else versions.valid_from
        end as valid_from,
        case
            when coalesce(links.valid_to, {{ open_end() }}) < versions.valid_to
                then coalesce(links.valid_to, {{ open_end() }})
            else versions.valid_to
        end as valid_to
    from links
    inner join versions
        on
            links.business_id = versions.business_id
            and links.valid_from < versions.valid_to
            and versions.valid_from < coalesce(links.valid_to, {{ open_end() }})

)

select
    *,
    valid_to = {{ open_end() }} as is_current
from overlapping
{%- endmacro %}
