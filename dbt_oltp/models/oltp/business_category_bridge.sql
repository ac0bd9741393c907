{{
    config(
        unique_key=['business_id', 'category_id'],
        indexes=[
            {'columns': ['business_id']},
            {'columns': ['category_id']},
            {'columns': ['last_edited_at']},
        ],
    )
}}

-- depends_on: {{ ref('business') }}
-- depends_on: {{ ref('business_category') }}

with

sightings as (

    {{ sightings(ref('stg_yelp__business_categories'), ['yelp_business_id', 'category_alias']) }}

),

final as (

    select
        {{ stable_key(['yelp_business_id']) }} as business_id,
        {{ stable_key(['category_alias']) }} as category_id,
        first_seen_on,
        valid_to,
        last_seen_on,
        {{ row_hash(['valid_to']) }} as row_hash
    from sightings

)

select
    final.business_id,
    final.category_id,
    {{ kept_valid_from('final', 'previous') }} as valid_from,
    final.valid_to,
    final.last_seen_on,
    final.row_hash,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous
        on final.business_id = previous.business_id and final.category_id = previous.category_id
{% endif %}
