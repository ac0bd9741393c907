-- LA 311: per owning agency, how many requests are closed and the median days to close them.
with

closed as (

    select * from {{ ref('fct_service_request') }}
    where is_closed

),

agencies as (

    select * from {{ ref('dim_agency') }}

)

select
    agencies.agency_code,
    count(*) as closed_requests,
    {{ median('closed.days_to_close') }} as median_days_to_close,
    {{ exact_avg('closed.days_to_close') }} as average_days_to_close
from closed
inner join agencies on closed.agency_key = agencies.agency_key
group by 1
