-- One row per hire (an employee's hiring), with its UTC calendar day, year and quarter: the
-- grain the hiring KPIs count.
with

employees as (

    select * from {{ ref('stg_lake__hr_employee') }}

),

dated as (

    select
        employee_id,
        employee_name,
        hired_at,
        department_id,
        job_id,
        {{ utc_date('hired_at') }} as hired_on
    from employees

)

select
    employee_id as employee_key,
    employee_name,
    hired_at,
    {{ date_key('hired_on') }} as hire_date_key,
    cast(extract(year from hired_on) as integer) as hire_year,
    cast(extract(quarter from hired_on) as integer) as hire_quarter,
    department_id as department_key,
    job_id as job_key
from dated
