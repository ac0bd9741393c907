with

source as (

    {{ latest_version('(' ~ lake_or_empty('agency', {
        'agency_id': 'string',
        'agency_code': 'string',
        'last_edited_at': 'timestamptz'
    }) ~ ') as lake_rows', ['agency_id']) }}

),

renamed as (

    select
        agency_id,
        agency_code,
        last_edited_at

    from source

)

select * from renamed
