-- How many current businesses have each rating, per price level.
with

businesses as (

    select * from {{ ref('dim_business') }}
    where is_current and rating is not null

)

select
    payment_level_id,
    price_symbol,
    payment_level_name,
    rating,
    count(*) as businesses
from businesses
group by 1, 2, 3, 4
