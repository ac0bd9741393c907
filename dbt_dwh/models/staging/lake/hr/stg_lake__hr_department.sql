with

source as (

    {{ latest_version('(' ~ lake_or_empty('hr_department', {
        'department_id': 'bigint',
        'department_name': 'string',
        'last_edited_at': 'timestamptz'
    }) ~ ') as lake_rows', ['department_id']) }}

),

renamed as (

    select
        department_id,
        department_name,
        last_edited_at

    from source

)

select * from renamed
