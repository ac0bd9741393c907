{{ config(unique_key='country_id') }}

with

codes as (

    select distinct country_code from {{ ref('stg_yelp__businesses') }}
    union
    select 'US'

),

final as (

    select
        {{ stable_key(['country_code']) }} as country_id,
        country_code,
        case country_code when 'US' then 'United States' else country_code end as country_name

    from codes

),

hashed as (

    select *, {{ row_hash(['country_code', 'country_name']) }} as row_hash from final

)

select
    hashed.*,
    {{ changed_at('hashed.row_hash', 'previous') }} as last_edited_at
from hashed
{% if is_incremental() %}
    left join {{ this }} as previous on hashed.country_id = previous.country_id
{% endif %}
