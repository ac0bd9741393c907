with

source as (

    select * from {{ source('raw_yelp', 'businesses__categories') }}

),

renamed as (

    select
        business_id as yelp_business_id,
        surveyed_on,
        alias as category_alias,
        title as category_title

    from source

)

select * from renamed
