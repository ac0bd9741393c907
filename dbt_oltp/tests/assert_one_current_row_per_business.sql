-- A Yelp business has at most one current (valid_to is null) row in oltp.business.
select
    yelp_business_id,
    count(*) as current_rows
from {{ ref('business') }}
where valid_to is null
group by yelp_business_id
having count(*) > 1
