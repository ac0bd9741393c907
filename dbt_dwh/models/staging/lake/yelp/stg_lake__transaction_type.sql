with

source as (

    {{ visible_version(
        source('lake', 'transaction_type'), ['transaction_type_id'], 'transaction_type'
    ) }}

),

renamed as (

    select
        transaction_type_id,
        transaction_type_name,
        valid_from,
        valid_to,
        last_seen_on,
        last_edited_at

    from source

)

select * from renamed
