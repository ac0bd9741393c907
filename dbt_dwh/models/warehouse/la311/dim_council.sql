-- LA neighborhood councils (one 'Unknown' row for requests outside any council).
with

councils as (

    select * from {{ ref('stg_lake__council') }}

)

select
    council_id as council_key,
    council_number,
    council_name,
    last_edited_at
from councils
