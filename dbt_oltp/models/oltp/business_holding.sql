{{
    config(
        unique_key=['business_id', 'surveyed_on'],
        indexes=[
            {'columns': ['business_id', 'surveyed_on'], 'unique': True},
            {'columns': ['last_edited_at']},
        ],
    )
}}

-- depends_on: {{ ref('business') }}

with

snapshots as (

    select * from {{ ref('stg_yelp__businesses') }}
    {{ since_last_folded('surveyed_on', 'surveyed_on') }}

),

final as (

    select
        {{ stable_key(['yelp_business_id']) }} as business_id,
        surveyed_on,
        rating,
        review_count,
        {{ row_hash(['rating', 'review_count']) }} as row_hash

    from snapshots

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous
        on final.business_id = previous.business_id and final.surveyed_on = previous.surveyed_on
{% endif %}
