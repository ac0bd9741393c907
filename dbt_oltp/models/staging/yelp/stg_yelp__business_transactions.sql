with

source as (

    select * from {{ source('raw_yelp', 'businesses__transactions') }}

),

renamed as (

    select
        business_id as yelp_business_id,
        surveyed_on,
        transaction_type

    from source

)

select * from renamed
