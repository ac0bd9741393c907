{{ config(unique_key='department_id') }}

-- HR departments keep the HR system's ids: they are the keys every drop and API batch uses.
with

departments as (

    select * from {{ ref('stg_hr__departments') }}

),

final as (

    select
        department_id,
        department_name,
        {{ row_hash(['department_name']) }} as row_hash
    from departments

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.department_id = previous.department_id
{% endif %}
