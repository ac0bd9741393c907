with

source as (

    {{ latest_version('(' ~ lake_or_empty('council', {
        'council_id': 'string',
        'council_number': 'bigint',
        'council_name': 'string',
        'last_edited_at': 'timestamptz'
    }) ~ ') as lake_rows', ['council_id']) }}

),

renamed as (

    select
        council_id,
        council_number,
        council_name,
        last_edited_at

    from source

)

select * from renamed
