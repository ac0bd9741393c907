-- Versions of one business never overlap, and each business has exactly one current version.
with

versions as (

    select * from {{ ref('dim_business') }}

),

overlapping as (

    select earlier.business_id
    from versions as earlier
    inner join versions as later
        on
            earlier.business_id = later.business_id
            and earlier.business_key <> later.business_key
            and earlier.valid_from < later.valid_to
            and earlier.valid_to > later.valid_from

),

current_counts as (

    select business_id
    from versions
    group by business_id
    having sum(case when is_current then 1 else 0 end) <> 1

)

select business_id from overlapping
union all
select business_id from current_counts
