with

source as (

    {{ latest_version(source('lake', 'payment_level'), ['payment_level_id']) }}

),

renamed as (

    select
        payment_level_id,
        price_symbol,
        payment_level_name,
        last_edited_at

    from source

)

select * from renamed
