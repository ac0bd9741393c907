{{
    config(
        unique_key='employee_id',
        indexes=[
            {'columns': ['department_id']},
            {'columns': ['job_id']},
            {'columns': ['loaded_at']},
        ],
    )
}}

-- depends_on: {{ ref('hr_department') }}
-- depends_on: {{ ref('hr_job') }}

-- One row per employee. Incremental on when raw_hr wrote the row (_loaded_at moves only when
-- an ingest changed its content): a daily drop costs what it changed. The newest instant
-- folded in is taken again, so rows written in the same instant later are not skipped.
with

employees as (

    select staged.* from {{ ref('stg_hr__employees') }} as staged
    {% if is_incremental() %}
        where staged.loaded_at >= (
            select coalesce(max(built.loaded_at), timestamp '1900-01-01')
            from {{ this }} as built
        )
    {% endif %}

),

final as (

    select
        employee_id,
        employee_name,
        hired_at,
        department_id,
        job_id,
        loaded_at,
        {{ row_hash(['employee_name', 'hired_at', 'department_id', 'job_id']) }} as row_hash
    from employees

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.employee_id = previous.employee_id
{% endif %}
