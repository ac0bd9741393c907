-- Departments that hired more employees in a year than the mean number of hires per department
-- that year (the mean over the departments that hired that year), most hires first.
with

hires as (

    select * from {{ ref('fct_hire') }}

),

departments as (

    select * from {{ ref('dim_hr_department') }}

),

per_department as (

    select
        hire_year as year,
        department_key,
        count(*) as hired
    from hires
    group by 1, 2

),

yearly_mean as (

    select
        year,
        avg(hired) as mean_hired
    from per_department
    group by 1

)

select
    per_department.year,
    per_department.department_key as department_id,
    departments.department_name as department,
    per_department.hired
from per_department
inner join yearly_mean on per_department.year = yearly_mean.year
inner join departments on per_department.department_key = departments.department_key
where per_department.hired > yearly_mean.mean_hired
order by 1, 4 desc, 3
