with

source as (

    {{ latest_version('(' ~ lake_or_empty('hr_job', {
        'job_id': 'bigint',
        'job_name': 'string',
        'last_edited_at': 'timestamptz'
    }) ~ ') as lake_rows', ['job_id']) }}

),

renamed as (

    select
        job_id,
        job_name,
        last_edited_at

    from source

)

select * from renamed
