-- HR departments; the HR system's id is the key (stable across drops by the dictionary's rule).
with

departments as (

    select * from {{ ref('stg_lake__hr_department') }}

)

select
    department_id as department_key,
    department_name,
    last_edited_at
from departments
