{{ config(unique_key='user_id', indexes=[{'columns': ['last_edited_at']}]) }}

with

reviews as (

    select * from {{ ref('stg_yelp__reviews') }}
    {{ since_last_folded('surveyed_on', 'last_surveyed_on') }}

),

latest as (

    select distinct on (yelp_user_id) *
    from reviews
    where yelp_user_id is not null
    order by yelp_user_id asc, surveyed_on desc, extracted_at desc

),

final as (

    select
        {{ stable_key(['yelp_user_id']) }} as user_id,
        yelp_user_id,
        user_name,
        user_profile_url as profile_url,
        user_image_url as image_url,
        surveyed_on as last_surveyed_on,
        {{ row_hash(['user_name', 'user_profile_url', 'user_image_url']) }} as row_hash
    from latest

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.user_id = previous.user_id
{% endif %}
