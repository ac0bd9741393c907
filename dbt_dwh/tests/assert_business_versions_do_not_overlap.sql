-- Versions of one business never overlap in [valid_from, valid_to), and each business has
-- exactly one current version. Every row returned is a failure, naming the versions involved.
with

versions as (

    select * from {{ ref('dim_business') }}

),

overlapping as (

    select
        earlier.business_id,
        'overlapping versions' as problem,
        earlier.business_key,
        later.business_key as other_business_key
    from versions as earlier
    inner join versions as later
        on
            earlier.business_id = later.business_id
            and earlier.business_key < later.business_key
            and earlier.valid_from < later.valid_to
            and earlier.valid_to > later.valid_from

),

not_one_current as (

    -- no current version (both keys null), or several (two of them)
    select
        business_id,
        'not exactly one current version' as problem,
        min(case when is_current then business_key end) as business_key,
        max(case when is_current then business_key end) as other_business_key
    from versions
    group by business_id
    having sum(case when is_current then 1 else 0 end) <> 1

)

select * from overlapping
union all
select * from not_one_current
