with

source as (

    {{ latest_version('(' ~ lake_or_empty('request_type', {
        'request_type_id': 'string',
        'request_type_name': 'string',
        'last_edited_at': 'timestamptz'
    }) ~ ') as lake_rows', ['request_type_id']) }}

),

renamed as (

    select
        request_type_id,
        request_type_name,
        last_edited_at

    from source

)

select * from renamed
