{{ config(unique_key='event_category_id') }}

with

categories as (

    select distinct coalesce(category_alias, 'other') as category_alias
    from {{ ref('stg_yelp__events') }}

),

final as (

    select
        {{ stable_key(['category_alias']) }} as event_category_id,
        category_alias,
        initcap(replace(category_alias, '-', ' ')) as category_name,
        {{ row_hash(['category_alias']) }} as row_hash
    from categories

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.event_category_id = previous.event_category_id
{% endif %}
