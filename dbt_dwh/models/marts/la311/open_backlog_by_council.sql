-- LA 311: the open backlog per neighborhood council, aged as of the newest update in the data
-- (not the build's clock, so a rebuild of the same data gives the same table).
with

requests as (

    select * from {{ ref('fct_service_request') }}

),

as_of as (

    select max(updated_at) as as_of_at from requests

),

open_requests as (

    select
        requests.council_key,
        requests.created_at,
        {{ seconds_between('requests.created_at', 'as_of.as_of_at') }} / 86400.0
            as age_days
    from requests
    cross join as_of
    where not requests.is_closed

),

councils as (

    select * from {{ ref('dim_council') }}

)

select
    councils.council_number,
    councils.council_name,
    count(*) as open_requests,
    min(open_requests.created_at) as oldest_open_at,
    {{ median('open_requests.age_days') }} as median_age_days
from open_requests
inner join councils on open_requests.council_key = councils.council_key
group by 1, 2
