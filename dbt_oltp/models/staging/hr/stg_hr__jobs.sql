with

source as (

    {{ source_or_empty('raw_hr', 'jobs', {
        'job_id': 'integer',
        'job_name': 'text',
    }) }}

),

renamed as (

    select
        job_id,
        job_name

    from source

)

select * from renamed
