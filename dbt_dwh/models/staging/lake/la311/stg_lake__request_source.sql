with

source as (

    {{ latest_version('(' ~ lake_or_empty('request_source', {
        'request_source_id': 'string',
        'request_source_name': 'string',
        'last_edited_at': 'timestamptz'
    }) ~ ') as lake_rows', ['request_source_id']) }}

),

renamed as (

    select
        request_source_id,
        request_source_name,
        last_edited_at

    from source

)

select * from renamed
