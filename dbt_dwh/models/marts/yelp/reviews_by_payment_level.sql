-- Reviews and ratings per payment level, over the current version of each business.
with

businesses as (

    select * from {{ ref('dim_business') }}
    where is_current

),

reviews as (

    select * from {{ ref('dim_review') }}

),

per_business as (

    select
        businesses.business_id,
        businesses.payment_level_id,
        businesses.payment_level_name,
        businesses.rating as business_rating,
        count(reviews.review_key) as reviews,
        {{ exact_sum('reviews.rating') }} as review_rating_total
    from businesses
    left join reviews on businesses.business_id = reviews.business_id
    group by 1, 2, 3, 4

)

select
    payment_level_id,
    payment_level_name,
    count(*) as businesses,
    sum(reviews) as reviews,
    {{ exact_avg('business_rating') }} as average_business_rating,
    -- every review weighs the same: the total of their ratings over their number
    {{ as_double('sum(review_rating_total) / nullif(sum(reviews), 0)') }} as average_review_rating
from per_business
group by 1, 2
