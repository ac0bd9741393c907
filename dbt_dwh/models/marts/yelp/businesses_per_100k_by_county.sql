-- Open businesses per 100,000 inhabitants, per county (latest population estimate).
with

businesses as (

    select * from {{ ref('dim_business') }}
    where is_current and business_status = 'open'

),

locations as (

    select * from {{ ref('dim_location') }}

),

counties as (

    select * from {{ ref('dim_county') }}

),

growth as (

    select * from {{ ref('fct_county_growth') }}

),

latest_population as (

    select *
    from (
        select
            county_key,
            estimation_year,
            population,
            row_number() over (partition by county_key order by estimation_year desc) as year_rank
        from growth
    ) as ranked
    where year_rank = 1

),

open_per_county as (

    select
        locations.county_key,
        count(*) as open_businesses
    from businesses
    inner join locations on businesses.location_key = locations.location_key
    group by 1

)

select
    counties.county_key,
    counties.county_name,
    counties.state_name,
    latest_population.estimation_year,
    latest_population.population,
    coalesce(open_per_county.open_businesses, 0) as open_businesses,
    100000.0 * coalesce(open_per_county.open_businesses, 0)
    / nullif(latest_population.population, 0) as businesses_per_100k
from counties
inner join latest_population on counties.county_key = latest_population.county_key
left join open_per_county on counties.county_key = open_per_county.county_key
