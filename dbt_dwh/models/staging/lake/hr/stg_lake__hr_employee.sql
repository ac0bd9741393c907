with

source as (

    {{ latest_version('(' ~ lake_or_empty('hr_employee', {
        'employee_id': 'bigint',
        'employee_name': 'string',
        'hired_at': 'timestamptz',
        'department_id': 'bigint',
        'job_id': 'bigint',
        'last_edited_at': 'timestamptz'
    }) ~ ') as lake_rows', ['employee_id']) }}

),

renamed as (

    select
        employee_id,
        employee_name,
        hired_at,
        department_id,
        job_id,
        last_edited_at

    from source

)

select * from renamed
