-- Reviewers, current version.
with

versions as (

    select * from {{ ref('snap_user') }}

)

select
    user_id as user_key,
    yelp_user_id,
    user_name,
    profile_url,
    last_edited_at
from versions
where dbt_valid_to is null
