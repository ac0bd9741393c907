-- LA 311 at a glance for the operational side: per month opened, request type and agency, how
-- many requests, how many are closed and how long closing took. A `table`: dbt builds it under a
-- temporary name and swaps it in with a rename in one transaction, so readers see the old summary
-- or the new one, never an empty or half-built table (nothing references it by foreign key).
-- The median is over every request of a group, so a run recomputes the groups whole; requests
-- are grouped by their keys and the names joined to the 144-odd groups, not to every request.
with

requests as (

    select * from {{ ref('service_request') }}

),

types as (

    select * from {{ ref('request_type') }}

),

agencies as (

    select * from {{ ref('agency') }}

),

grouped as (

    select
        request_type_id,
        agency_id,
        cast(date_trunc('month', created_at) as date) as created_month,
        count(*) as requests,
        count(closed_at) as closed_requests,
        count(*) - count(closed_at) as open_requests,
        percentile_cont(0.5) within group (
            order by extract(epoch from closed_at - created_at) / 86400.0
        ) as median_days_to_close

    from requests
    group by 1, 2, 3

),

final as (

    select
        grouped.created_month,
        types.request_type_name,
        agencies.agency_code,
        grouped.requests,
        grouped.closed_requests,
        grouped.open_requests,
        grouped.median_days_to_close

    from grouped
    inner join types on grouped.request_type_id = types.request_type_id
    inner join agencies on grouped.agency_id = agencies.agency_id

)

select * from final
