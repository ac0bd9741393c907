{{ config(unique_key='state_id', indexes=[{'columns': ['country_id']}]) }}

with

scraped as (

    select * from {{ ref('stg_states__state_abbreviations') }}

),

states as (

    select
        state_code,
        state_name,
        standard_abbreviation,
        state_kind
    from scraped
    union all
    -- where a Yelp or Census state is not on the scraped page
    select
        '??' as state_code,
        'Unknown' as state_name,
        null as standard_abbreviation,
        'unknown' as state_kind

),

final as (

    select
        {{ stable_key(['state_code']) }} as state_id,
        state_code,
        state_name,
        standard_abbreviation,
        state_kind,
        {{ stable_key(["'US'"]) }} as country_id

    from states

),

hashed as (

    select
        *,
        {{ row_hash(['state_code', 'state_name', 'standard_abbreviation', 'state_kind']) }}
            as row_hash
    from final

)

select
    hashed.*,
    {{ changed_at('hashed.row_hash', 'previous') }} as last_edited_at
from hashed
{% if is_incremental() %}
    left join {{ this }} as previous on hashed.state_id = previous.state_id
{% endif %}
