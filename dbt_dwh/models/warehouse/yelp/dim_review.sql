-- Reviews, current version, with the business and reviewer they belong to.
with

reviews as (

    select * from {{ ref('stg_lake__review') }}

)

select
    review_id as review_key,
    yelp_review_id,
    business_id,
    user_id as user_key,
    rating,
    review_text,
    created_at,
    {{ date_key('cast(created_at as date)') }} as created_date_key,
    url,
    last_edited_at
from reviews
