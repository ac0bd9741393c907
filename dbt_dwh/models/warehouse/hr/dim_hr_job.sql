-- HR jobs; the HR system's id is the key.
with

jobs as (

    select * from {{ ref('stg_lake__hr_job') }}

)

select
    job_id as job_key,
    job_name,
    last_edited_at
from jobs
