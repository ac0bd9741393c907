{{
    config(
        unique_key='business_id',
        incremental_strategy='replace_scope',
        indexes=[
            {'columns': ['city_id']},
            {'columns': ['payment_level_id']},
            {'columns': ['yelp_business_id'], 'unique': True},
            {'columns': ['last_edited_at']},
        ],
        pre_hook="{{ capture_fold_scope(['businesses'], business_keys()) }}",
        post_hook="{{ commit_fold_scope() }}",
    )
}}

-- The latest state of each business: its newest listing, open or closed (soft delete: valid_to
-- is the first survey day it was no longer listed). Businesses no listing mentions any more go
-- in the run's sweep (their holdings and links go first).

with

latest as (

    {{ newest_snapshots(ref('stg_yelp__businesses'), 'yelp_business_id') }}

),

final as (

    select
        {{ stable_key(['latest.yelp_business_id']) }} as business_id,
        latest.yelp_business_id,
        latest.chain_name,
        latest.alias,
        latest.address1,
        latest.address2,
        latest.address3,
        latest.zip_code,
        {{ stable_key(["coalesce(latest.city_name, 'Unknown')", 'latest.county_name',
                       'latest.state_name']) }} as city_id,
        latest.url,
        latest.rating,
        latest.review_count,
        latest.phone,
        latest.latitude,
        latest.longitude,
        latest.payment_level_id,
        latest.is_closed,
        latest.surveyed_on as last_surveyed_on,
        {{ next_survey_day('latest.surveyed_on') }} as valid_to,
        (
            select min(listed.surveyed_on) from {{ ref('stg_yelp__businesses') }} as listed
            where listed.yelp_business_id = latest.yelp_business_id
        ) as valid_from
    from latest

),

hashed as (

    select
        final.*,
        -- listed on the newest survey day: open; gone from it: closed
        case
            when final.valid_to is not null or final.is_closed then 'closed' else 'open'
        end as business_status,
        {{ row_hash([
            'final.chain_name', 'final.alias', 'final.address1', 'final.address2',
            'final.address3', 'final.zip_code', 'final.city_id',
            "case when final.valid_to is not null or final.is_closed then 'closed' "
            ~ "else 'open' end",
            'final.url', 'final.rating', 'final.review_count', 'final.phone', 'final.latitude',
            'final.longitude', 'final.payment_level_id', 'final.valid_from',
            'final.valid_to', 'final.last_surveyed_on',
        ]) }} as row_hash
    from final

)

select
    hashed.business_id,
    hashed.yelp_business_id,
    hashed.chain_name,
    hashed.alias,
    hashed.address1,
    hashed.address2,
    hashed.address3,
    hashed.zip_code,
    hashed.city_id,
    hashed.business_status,
    hashed.url,
    hashed.rating,
    hashed.review_count,
    hashed.phone,
    hashed.latitude,
    hashed.longitude,
    hashed.payment_level_id,
    hashed.valid_from,
    hashed.valid_to,
    hashed.last_surveyed_on,
    hashed.row_hash,
    {{ changed_at('hashed.row_hash', 'previous') }} as last_edited_at
from hashed
{% if is_incremental() %}
    left join {{ this }} as previous on hashed.business_id = previous.business_id
{% endif %}
