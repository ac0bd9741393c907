with

source as (

    {{ source_or_empty('raw_hr', 'employees', {
        'employee_id': 'integer',
        'employee_name': 'text',
        'hiring_date': 'timestamp with time zone',
        'department_id': 'integer',
        'job_id': 'integer',
        '_loaded_at': 'timestamp with time zone',
    }) }}

),

renamed as (

    select
        employee_id,
        employee_name,
        hiring_date as hired_at,
        department_id,
        job_id,
        _loaded_at as loaded_at

    from source

)

select * from renamed
