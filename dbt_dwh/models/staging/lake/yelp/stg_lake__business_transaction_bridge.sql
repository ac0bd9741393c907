with

source as (

    {{ visible_version(
        source('lake', 'business_transaction_bridge'),
        ['business_id', 'transaction_type_id', 'valid_from'],
        'business_transaction_bridge',
    ) }}

),

renamed as (

    select
        business_id,
        transaction_type_id,
        valid_from,
        valid_to,
        last_edited_at

    from source

)

select * from renamed
