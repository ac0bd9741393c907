with

source as (

    select * from {{ source('raw_yelp', 'businesses') }}

),

renamed as (

    select
        _dlt_id as snapshot_id,
        id as yelp_business_id,
        surveyed_on,
        name as chain_name,
        alias,
        nullif(trim(address1), '') as address1,
        nullif(trim(address2), '') as address2,
        nullif(trim(address3), '') as address3,
        nullif(trim(city), '') as city_name,
        nullif(trim(zip_code), '') as zip_code,
        coalesce(nullif(trim(country), ''), 'US') as country_code,
        nullif(upper(trim(state)), '') as state_code,
        {{ split_county('search_location') }},
        coalesce(is_closed, false) as is_closed,
        url,
        rating,
        review_count,
        nullif(phone, '') as phone,
        latitude,
        longitude,
        {{ payment_level_id('price') }} as payment_level_id,
        extracted_at

    from source

)

select * from renamed
