{{
    config(
        materialized='incremental',
        unique_key=['business_id', 'surveyed_on'],
        pre_hook="{{ drop_vanished_holdings() }}",
    )
}}

-- One row per business per survey day, joined to the business version valid that day.
-- Incremental on what changed in the lake since the last build, whatever the order the days came
-- in: holdings edited since (a new or reloaded day), and every holding a changed version covers
-- (a day that arrives late can split or merge the versions around it, so holdings of other days
-- change version). Holdings the lake no longer has go first (drop_vanished_holdings).
with

holdings as (

    select * from {{ ref('stg_lake__business_holding') }}

),

versions as (

    select * from {{ ref('dim_business') }}

),

{% if is_incremental() -%}
    seen as (

        select
            coalesce(max(last_edited_at), {{ long_ago() }}) as holdings_seen,
            coalesce(max(version_edited_at), {{ long_ago() }}) as versions_seen
        from {{ this }}

    ),

    changed_versions as (

        select
            versions.business_id,
            versions.valid_from,
            versions.valid_to
        from versions
        where versions.last_edited_at > (select seen.versions_seen from seen)

    ),
{%- endif %}

joined as (

    select
        versions.business_key,
        holdings.business_id,
        holdings.surveyed_on,
        {{ date_key('holdings.surveyed_on') }} as date_key,
        holdings.rating,
        holdings.review_count,
        holdings.last_edited_at,
        versions.last_edited_at as version_edited_at
    from holdings
    left join versions
        on
            holdings.business_id = versions.business_id
            and holdings.surveyed_on >= versions.valid_from
            and holdings.surveyed_on < versions.valid_to

)

select joined.*
from joined
{% if is_incremental() %}
    left join changed_versions
        on
            joined.business_id = changed_versions.business_id
            and joined.surveyed_on >= changed_versions.valid_from
            and joined.surveyed_on < changed_versions.valid_to
    where
        joined.last_edited_at > (select seen.holdings_seen from seen)
        or changed_versions.business_id is not null
{% endif %}
