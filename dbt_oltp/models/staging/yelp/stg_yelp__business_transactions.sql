with

transactions as (

    select * from {{ source('raw_yelp', 'businesses__transactions') }}

),

businesses as (

    select _dlt_id, id, surveyed_on from {{ source('raw_yelp', 'businesses') }}

),

renamed as (

    select
        businesses.id as yelp_business_id,
        businesses.surveyed_on,
        transactions.value as transaction_type

    from transactions
    inner join businesses on transactions._dlt_root_id = businesses._dlt_id

)

select * from renamed
