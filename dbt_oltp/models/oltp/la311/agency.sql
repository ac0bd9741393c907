{{ config(unique_key='agency_id') }}

-- The agencies that own requests (311's `owner`: BOS, LADBS, ...); 'Unknown' where none is set.
with

agencies as (

    select distinct lookups.agency_code
    from {{ ref('int_la311__lookups') }} as lookups

),

final as (

    select
        {{ stable_key(['agency_code']) }} as agency_id,
        agency_code,
        {{ row_hash(['agency_code']) }} as row_hash
    from agencies

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.agency_id = previous.agency_id
{% endif %}
