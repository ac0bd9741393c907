with

source as (

    {{ source_or_empty('raw_hr', 'departments', {
        'department_id': 'integer',
        'department_name': 'text',
    }) }}

),

renamed as (

    select
        department_id,
        department_name

    from source

)

select * from renamed
