{{
    config(
        sql_header="set local enable_sort = off;",
    )
}}

-- LA 311 at a glance for the operational side: per month opened, request type and agency, how
-- many requests, how many are closed and how long closing took. A `table`: dbt builds it under a
-- temporary name and swaps it in with a rename in one transaction, so readers see the old summary
-- or the new one, never an empty or half-built table (nothing references it by foreign key).
--
-- The median is over every request of a group, so a run recomputes the groups whole, as cheaply
-- as it can: one hash aggregation (parallel) collects each group's days to close, and each of
-- the ~150 groups' medians sorts only its own days. Sorting all requests by group instead spilled
-- 0.5 GB to disk at 5M requests and took 13 s (this takes 3 s); the planner prices the arrays'
-- hash table as if it spilled, hence no sorts in this transaction (sql_header). The aggregation
-- runs in parallel workers as the planner knows how few groups there are (service_request's
-- statistics: macros/la311.sql, la311_group_statistics). Days are date_part's double precision
-- (extract's numeric is several times slower to aggregate).
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
        array_agg(date_part('epoch', closed_at - created_at) / 86400.0) filter (
            where closed_at is not null
        ) as days_to_close

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
        (
            select percentile_cont(0.5) within group (order by closing.days_to_close)
            from unnest(grouped.days_to_close) as closing (days_to_close)
        ) as median_days_to_close

    from grouped
    inner join types on grouped.request_type_id = types.request_type_id
    inner join agencies on grouped.agency_id = agencies.agency_id

)

select * from final
