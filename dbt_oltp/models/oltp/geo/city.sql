{{ config(unique_key='city_id', indexes=[{'columns': ['county_id']}]) }}

with

cities as (

    select distinct
        county_name,
        state_name,
        coalesce(city_name, 'Unknown') as city_name
    from {{ ref('stg_yelp__businesses') }}

),

final as (

    select
        {{ stable_key(['city_name', 'county_name', 'state_name']) }} as city_id,
        city_name,
        {{ stable_key(['county_name', 'state_name']) }} as county_id

    from cities

),

hashed as (

    select
        *,
        {{ row_hash(['city_name', 'county_id']) }} as row_hash
    from final

)

select
    hashed.*,
    {{ changed_at('hashed.row_hash', 'previous') }} as last_edited_at
from hashed
{% if is_incremental() %}
    left join {{ this }} as previous on hashed.city_id = previous.city_id
{% endif %}
