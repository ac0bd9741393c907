-- The 20 businesses whose review count changed most between their first and last holding in the
-- loaded window.
with

holdings as (

    select * from {{ ref('fct_business_holding') }}

),

businesses as (

    select * from {{ ref('dim_business') }}
    where is_current

),

ends as (

    select
        business_id,
        min(surveyed_on) as first_day,
        max(surveyed_on) as last_day
    from holdings
    group by 1

),

changes as (

    select
        ends.business_id,
        ends.first_day,
        ends.last_day,
        first_holding.review_count as first_review_count,
        last_holding.review_count as last_review_count,
        last_holding.review_count - first_holding.review_count as review_count_change
    from ends
    inner join holdings as first_holding
        on
            ends.business_id = first_holding.business_id
            and ends.first_day = first_holding.surveyed_on
    inner join holdings as last_holding
        on
            ends.business_id = last_holding.business_id
            and ends.last_day = last_holding.surveyed_on

),

ranked as (

    select
        changes.*,
        businesses.chain_name,
        row_number() over (
            order by abs(changes.review_count_change) desc, changes.business_id
        ) as change_rank
    from changes
    inner join businesses on changes.business_id = businesses.business_id
    where changes.review_count_change is not null

)

select * from ranked
where change_rank <= 20
