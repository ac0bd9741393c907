-- LA 311 at a glance for the operational side: per month opened, request type and agency, how
-- many requests, how many are closed and how long closing took. A `table`: dbt builds it under a
-- temporary name and swaps it in with a rename in one transaction, so readers see the old summary
-- or the new one, never an empty or half-built table (nothing references it by foreign key).
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

final as (

    select
        cast(date_trunc('month', requests.created_at) as date) as created_month,
        types.request_type_name,
        agencies.agency_code,
        count(*) as requests,
        count(requests.closed_at) as closed_requests,
        count(*) - count(requests.closed_at) as open_requests,
        percentile_cont(0.5) within group (
            order by extract(epoch from requests.closed_at - requests.created_at) / 86400.0
        ) as median_days_to_close

    from requests
    inner join types on requests.request_type_id = types.request_type_id
    inner join agencies on requests.agency_id = agencies.agency_id
    group by 1, 2, 3

)

select * from final
