{{ config(unique_key='request_type_id') }}

with

request_types as (

    select distinct lookups.request_type_name
    from {{ ref('int_la311__lookups') }} as lookups

),

final as (

    select
        {{ stable_key(['request_type_name']) }} as request_type_id,
        request_type_name,
        {{ row_hash(['request_type_name']) }} as row_hash
    from request_types

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.request_type_id = previous.request_type_id
{% endif %}
