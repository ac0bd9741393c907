with

categories as (

    select * from {{ source('raw_yelp', 'businesses__categories') }}

),

businesses as (

    select _dlt_id, id, surveyed_on from {{ source('raw_yelp', 'businesses') }}

),

renamed as (

    select
        businesses.id as yelp_business_id,
        businesses.surveyed_on,
        categories.alias as category_alias,
        categories.title as category_title

    from categories
    inner join businesses on categories._dlt_root_id = businesses._dlt_id

)

select * from renamed
