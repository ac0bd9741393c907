-- Business categories, with the survey days they were listed on.
with

categories as (

    select * from {{ ref('stg_lake__business_category') }}

)

select
    category_id as category_key,
    category_alias,
    category_title,
    valid_from,
    coalesce(valid_to, {{ open_end() }}) as valid_to,
    last_edited_at
from categories
