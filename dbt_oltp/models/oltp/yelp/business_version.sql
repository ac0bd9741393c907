{{
    config(
        unique_key=['business_id', 'valid_from'],
        incremental_strategy='replace_scope',
        scope_column='business_id',
        indexes=[
            {'columns': ['city_id']},
            {'columns': ['last_edited_at']},
        ],
        pre_hook="{{ capture_fold_scope(['businesses'], business_version_keys()) }}",
        post_hook="{{ commit_fold_scope() }}",
    )
}}

-- Valid-time history of each business: its versions are the runs of survey days on which it
-- was listed with the same content, or not listed (closed), [valid_from, valid_to) in survey
-- days. A day that arrives late or is loaded again lands in its place: the versions of the
-- businesses it touches are rebuilt from that day on.

with

listings as (

    select
        {{ stable_key(['yelp_business_id']) }} as business_id,
        *
    from {{ ref('stg_yelp__businesses') }}
    {%- if is_incremental() %}
        where surveyed_on >= (select min(scope.surveyed_on) from {{ fold_days() }} as scope)
    {%- endif %}

),

days as (

    {% if is_incremental() %}{{ days_from_first_folded() }}{% else %}{{ survey_days() }}{% endif %}

),

{% if is_incremental() -%}
    earlier as (

    -- versions of the folded businesses that start before the first folded day
        select
            known.*,
            row_number() over (
                partition by known.business_id order by known.valid_from desc
            ) as recency
        from {{ this }} as known
        where
            known.business_id in {{ fold_keys() }}
            and known.valid_from < (select min(scope.surveyed_on) from {{ fold_days() }} as scope)

    ),
{%- endif %}

businesses as (

    select distinct
        business_id,
        yelp_business_id
    from listings
    {%- if is_incremental() %}
        where business_id in {{ fold_keys() }}
        union
        select
            business_id,
            yelp_business_id
        from earlier
    {%- endif %}

),

observations as (

    -- the last earlier version (it may continue), then every survey day from the first
    -- folded one: the day's listing, or nothing
    {%- if is_incremental() %}
        select
            business_id,
            valid_from as surveyed_on,
            true as has_content,
            is_listed,
            yelp_business_id,
            chain_name,
            alias,
            address1,
            address2,
            address3,
            zip_code,
            city_id,
            business_status,
            url,
            phone,
            latitude,
            longitude,
            payment_level_id
        from earlier
        where recency = 1
        union all
    {%- endif %}
    select
        businesses.business_id,
        days.surveyed_on,
        listings.business_id is not null as has_content,
        listings.business_id is not null as is_listed,
        businesses.yelp_business_id,
        listings.chain_name,
        listings.alias,
        listings.address1,
        listings.address2,
        listings.address3,
        listings.zip_code,
        {{ stable_key(["coalesce(listings.city_name, 'Unknown')", 'listings.county_name',
                       'listings.state_name']) }} as city_id,
        case when listings.is_closed then 'closed' else 'open' end as business_status,
        listings.url,
        listings.phone,
        listings.latitude,
        listings.longitude,
        listings.payment_level_id
    from businesses
    cross join days
    left join listings
        on
            businesses.business_id = listings.business_id
            and days.surveyed_on = listings.surveyed_on

),

grouped as (

    -- a day without a listing belongs to the listing before it, and carries its content
    select
        *,
        count(case when has_content then 1 end) over (
            partition by business_id order by surveyed_on rows unbounded preceding
        ) as content_group
    from observations

),

heads as (

    select * from grouped
    where has_content

),

states as (

    select
        grouped.business_id,
        grouped.surveyed_on,
        grouped.is_listed,
        heads.yelp_business_id,
        heads.chain_name,
        heads.alias,
        heads.address1,
        heads.address2,
        heads.address3,
        heads.zip_code,
        heads.city_id,
        heads.url,
        heads.phone,
        heads.latitude,
        heads.longitude,
        heads.payment_level_id,
        case when grouped.is_listed then heads.business_status else 'closed' end
            as business_status
    from grouped
    -- days before a business's first listing have no head, and no version
    inner join heads
        on
            grouped.business_id = heads.business_id
            and grouped.content_group = heads.content_group

),

hashed as (

    select
        *,
        {{ row_hash([
            'chain_name', 'alias', 'address1', 'address2', 'address3', 'zip_code', 'city_id',
            'business_status', 'is_listed', 'url', 'phone', 'latitude', 'longitude',
            'payment_level_id',
        ]) }} as content_hash
    from states

),

changes as (

    select
        *,
        -- the first day of a business, or a change of content
        coalesce(
            content_hash <> lag(content_hash) over (partition by business_id order by surveyed_on),
            true
        ) as starts_version
    from hashed

),

versions as (

    select
        business_id,
        surveyed_on as valid_from,
        lead(surveyed_on) over (partition by business_id order by surveyed_on) as valid_to,
        yelp_business_id,
        chain_name,
        alias,
        address1,
        address2,
        address3,
        zip_code,
        city_id,
        business_status,
        is_listed,
        url,
        phone,
        latitude,
        longitude,
        payment_level_id
    from changes
    where starts_version
    {%- if is_incremental() %}
        union all
        -- earlier versions that do not reach the folded days stay as they are
        select
            business_id,
            valid_from,
            valid_to,
            yelp_business_id,
            chain_name,
            alias,
            address1,
            address2,
            address3,
            zip_code,
            city_id,
            business_status,
            is_listed,
            url,
            phone,
            latitude,
            longitude,
            payment_level_id
        from earlier
        where recency > 1
    {%- endif %}

),

final as (

    select
        *,
        {{ row_hash([
            'yelp_business_id', 'chain_name', 'alias', 'address1', 'address2', 'address3',
            'zip_code', 'city_id', 'business_status', 'is_listed', 'url', 'phone', 'latitude',
            'longitude', 'payment_level_id', 'valid_to',
        ]) }} as row_hash
    from versions

)

select
    final.business_id,
    final.valid_from,
    final.valid_to,
    final.yelp_business_id,
    final.chain_name,
    final.alias,
    final.address1,
    final.address2,
    final.address3,
    final.zip_code,
    final.city_id,
    final.business_status,
    final.is_listed,
    final.url,
    final.phone,
    final.latitude,
    final.longitude,
    final.payment_level_id,
    final.row_hash,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous
        on final.business_id = previous.business_id and final.valid_from = previous.valid_from
{% endif %}
