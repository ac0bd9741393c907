{{
    config(
        unique_key='review_id',
        indexes=[
            {'columns': ['business_id']},
            {'columns': ['user_id']},
            {'columns': ['last_edited_at']},
        ],
    )
}}

-- depends_on: {{ ref('business') }}
-- depends_on: {{ ref('user') }}

with

reviews as (

    select * from {{ ref('stg_yelp__reviews') }}
    {{ since_last_folded('surveyed_on', 'last_surveyed_on') }}

),

latest as (

    select distinct on (yelp_review_id) *
    from reviews
    order by yelp_review_id asc, surveyed_on desc, extracted_at desc

),

final as (

    select
        {{ stable_key(['yelp_review_id']) }} as review_id,
        yelp_review_id,
        {{ stable_key(['yelp_business_id']) }} as business_id,
        {{ stable_key(['yelp_user_id']) }} as user_id,
        rating,
        review_text,
        created_at,
        url,
        surveyed_on as last_surveyed_on,
        {{ row_hash(['yelp_business_id', 'yelp_user_id', 'rating', 'review_text',
                     'created_at', 'url']) }} as row_hash
    from latest

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.review_id = previous.review_id
{% endif %}
