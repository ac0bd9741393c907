-- LA 311: requests opened per request type per month, and how many of them are closed.
with

requests as (

    select * from {{ ref('fct_service_request') }}

),

types as (

    select * from {{ ref('dim_request_type') }}

),

days as (

    select * from {{ ref('dim_date') }}

)

select
    days.first_of_month as created_month,
    types.request_type_name,
    count(*) as requests,
    sum(case when requests.is_closed then 1 else 0 end) as closed_requests
from requests
inner join types on requests.request_type_key = types.request_type_key
inner join days on requests.created_date_key = days.date_key
group by 1, 2
