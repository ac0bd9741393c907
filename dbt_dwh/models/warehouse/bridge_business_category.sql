-- Business version x category, valid where both the link and the version are.
with

links as (

    select * from {{ ref('stg_lake__business_category_bridge') }}

),

versions as (

    select * from {{ ref('dim_business') }}

),

overlapping as (

    select
        versions.business_key,
        links.category_id as category_key,
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
