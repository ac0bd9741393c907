-- Employees hired per job and department in each quarter of a year, ordered by department
-- then job (one row per department and job that hired that year).
with

hires as (

    select * from {{ ref('fct_hire') }}

),

departments as (

    select * from {{ ref('dim_hr_department') }}

),

jobs as (

    select * from {{ ref('dim_hr_job') }}

)

select
    hires.hire_year as year,
    departments.department_name as department,
    jobs.job_name as job,
    count(case when hires.hire_quarter = 1 then 1 end) as q1,
    count(case when hires.hire_quarter = 2 then 1 end) as q2,
    count(case when hires.hire_quarter = 3 then 1 end) as q3,
    count(case when hires.hire_quarter = 4 then 1 end) as q4
from hires
inner join departments on hires.department_key = departments.department_key
inner join jobs on hires.job_key = jobs.job_key
group by 1, 2, 3
order by 1, 2, 3
