{{
    config(
        materialized='incremental',
        unique_key=['business_id', 'surveyed_on'],
        incremental_strategy=('merge' if target.type == 'bigquery' else 'delete+insert'),
    )
}}

-- One row per business per survey day, joined to the business version valid that day.
with

holdings as (

    select * from {{ ref('stg_lake__business_holding') }}
    {% if is_incremental() %}
        -- the newest day again (a re-run updates it) and anything newer
        where surveyed_on >= (select max(surveyed_on) from {{ this }})
    {% endif %}

),

versions as (

    select * from {{ ref('dim_business') }}

)

select
    versions.business_key,
    holdings.business_id,
    holdings.surveyed_on,
    {{ date_key('holdings.surveyed_on') }} as date_key,
    holdings.rating,
    holdings.review_count,
    holdings.last_edited_at
from holdings
left join versions
    on
        holdings.business_id = versions.business_id
        and versions.valid_from <= holdings.surveyed_on
        and holdings.surveyed_on < versions.valid_to
