{{ config(unique_key='council_id') }}

-- Neighborhood councils by number; the name is the one on the most recently updated request
-- (councils get renamed). Requests outside any council share the 'Unknown' row. An incremental
-- run reads the requests updated since the last one folded (int_la311__lookups): a council's
-- newest request is among them whenever the council is, so its name is still the newest.
with

councils as (

    select distinct on (lookups.council_number)
        lookups.council_number,
        coalesce(lookups.council_name, 'Unknown') as council_name
    from {{ ref('int_la311__lookups') }} as lookups
    order by lookups.council_number asc, lookups.updated_at desc

),

final as (

    select
        {{ stable_key(['council_number']) }} as council_id,
        council_number,
        council_name,
        {{ row_hash(['council_number', 'council_name']) }} as row_hash
    from councils

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.council_id = previous.council_id
{% endif %}
