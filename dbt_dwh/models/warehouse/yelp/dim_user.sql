-- Reviewers, current version.
with

reviewers as (

    select * from {{ ref('stg_lake__user') }}

)

select
    user_id as user_key,
    yelp_user_id,
    user_name,
    profile_url,
    last_edited_at
from reviewers
