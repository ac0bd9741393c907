{{ config(unique_key='job_id') }}

with

jobs as (

    select * from {{ ref('stg_hr__jobs') }}

),

final as (

    select
        job_id,
        job_name,
        {{ row_hash(['job_name']) }} as row_hash
    from jobs

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.job_id = previous.job_id
{% endif %}
