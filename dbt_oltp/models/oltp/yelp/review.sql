{{
    config(
        unique_key='review_id',
        incremental_strategy='replace_scope',
        scope_column='yelp_review_id',
        pre_hook="{{ capture_fold_scope(['reviews'],
                                         snapshot_keys(ref('stg_yelp__reviews'), 'yelp_review_id')) }}",
        post_hook="{{ commit_fold_scope() }}",
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

latest as (

    -- each review as its newest snapshot shows it
    {{ newest_snapshots(ref('stg_yelp__reviews'), 'yelp_review_id') }}

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
                     'created_at', 'url', 'surveyed_on']) }} as row_hash
    from latest

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.review_id = previous.review_id
{% endif %}
