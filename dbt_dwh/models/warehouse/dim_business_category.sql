-- Business categories, current version (history in snap_business_category).
with

versions as (

    select * from {{ ref('snap_business_category') }}

)

select
    category_id as category_key,
    category_alias,
    category_title,
    valid_from,
    coalesce(valid_to, {{ open_end() }}) as valid_to,
    last_edited_at
from versions
where dbt_valid_to is null
