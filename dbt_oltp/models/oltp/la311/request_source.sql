{{ config(unique_key='request_source_id') }}

with

request_sources as (

    select distinct lookups.request_source_name
    from {{ ref('int_la311__lookups') }} as lookups

),

final as (

    select
        {{ stable_key(['request_source_name']) }} as request_source_id,
        request_source_name,
        {{ row_hash(['request_source_name']) }} as row_hash
    from request_sources

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.request_source_id = previous.request_source_id
{% endif %}
