{{ config(unique_key='category_id') }}

with

sightings as (

    {{ sightings(ref('stg_yelp__business_categories'), ['category_alias'], ['category_title']) }}

),

final as (

    select
        {{ stable_key(['category_alias']) }} as category_id,
        category_alias,
        category_title,
        first_seen_on,
        valid_to,
        last_seen_on,
        {{ row_hash(['category_alias', 'category_title', 'first_seen_on', 'valid_to',
                     'last_seen_on']) }} as row_hash
    from sightings

)

select
    final.category_id,
    final.category_alias,
    final.category_title,
    final.first_seen_on as valid_from,
    final.valid_to,
    final.last_seen_on,
    final.row_hash,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.category_id = previous.category_id
{% endif %}
