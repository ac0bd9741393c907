{{
    config(
        unique_key='event_id',
        incremental_strategy='replace_scope',
        scope_column='yelp_event_id',
        pre_hook="{{ capture_fold_scope(['events'],
                                         snapshot_keys(ref('stg_yelp__events'), 'yelp_event_id')) }}",
        post_hook="{{ commit_fold_scope() }}",
        indexes=[
            {'columns': ['event_category_id']},
            {'columns': ['county_id']},
            {'columns': ['last_edited_at']},
        ],
    )
}}

-- depends_on: {{ ref('event_category') }}
-- depends_on: {{ ref('county') }}

with

latest as (

    {{ newest_snapshots(ref('stg_yelp__events'), 'yelp_event_id') }}

),

final as (

    select
        {{ stable_key(['yelp_event_id']) }} as event_id,
        yelp_event_id,
        event_name,
        description,
        {{ stable_key(["coalesce(category_alias, 'other')"]) }} as event_category_id,
        {{ stable_key(['county_name', 'state_name']) }} as county_id,
        starts_at,
        ends_at,
        cost,
        cost_max,
        is_free,
        is_canceled,
        attending_count,
        interested_count,
        event_site_url,
        latitude,
        longitude,
        surveyed_on as last_surveyed_on,
        {{ row_hash(['event_name', 'description', 'category_alias', 'starts_at', 'ends_at',
                     'cost', 'cost_max', 'is_free', 'is_canceled', 'attending_count',
                     'interested_count', 'event_site_url', 'county_name', 'state_name',
                     'latitude', 'longitude', 'surveyed_on']) }} as row_hash
    from latest

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.event_id = previous.event_id
{% endif %}
