-- The versions of a business follow each other without gap or overlap (each ends where the next
-- begins) and only the last one is open. Every row returned names a broken version.
with

versions as (

    select
        business_id,
        valid_from,
        valid_to,
        lead(valid_from) over (partition by business_id order by valid_from) as next_from
    from {{ ref('business_version') }}

)

select
    business_id,
    valid_from,
    valid_to,
    next_from
from versions
where
    valid_to is distinct from next_from
    or valid_to <= valid_from
