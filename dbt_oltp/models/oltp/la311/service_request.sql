{{
    config(
        unique_key='service_request_id',
        indexes=[
            {'columns': ['srnumber'], 'unique': True},
            {'columns': ['updated_at']},
            {'columns': ['last_edited_at']},
        ],
        post_hook=["{{ la311_group_statistics() }}"],
    )
}}

-- depends_on: {{ ref('request_type') }}
-- depends_on: {{ ref('agency') }}
-- depends_on: {{ ref('request_source') }}
-- depends_on: {{ ref('council') }}
-- depends_on: {{ ref('int_la311__fold_scope') }}

-- One row per LA 311 request, its latest version. Incremental by load: a run merges the requests
-- of the raw loads it folds (macros/la311.sql), in whatever order they were loaded: an update
-- costs what it brought.
with

requests as (

    select staged.* from {{ ref('stg_socrata__service_requests') }} as staged
    {{ la311_window('staged') }}

),

final as (

    select
        {{ stable_key(['srnumber']) }} as service_request_id,
        srnumber,
        {{ stable_key(["coalesce(request_type_name, 'Unknown')"]) }} as request_type_id,
        {{ stable_key(["coalesce(agency_code, 'Unknown')"]) }} as agency_id,
        {{ stable_key(["coalesce(request_source_name, 'Unknown')"]) }} as request_source_id,
        {{ stable_key(['council_number']) }} as council_id,
        status,
        action_taken,
        created_at,
        updated_at,
        service_date,
        closed_at,
        is_anonymous,
        mobile_os,
        assigned_to,
        address,
        zip_code,
        latitude,
        longitude,
        council_district,
        council_member,
        police_precinct,
        area_planning_commission,
        {{ row_hash([
            'request_type_name', 'agency_code', 'request_source_name', 'council_number',
            'status', 'action_taken', 'created_at', 'updated_at', 'service_date', 'closed_at',
            'is_anonymous', 'mobile_os', 'assigned_to', 'address', 'zip_code', 'latitude',
            'longitude', 'council_district', 'council_member', 'police_precinct',
            'area_planning_commission',
        ]) }} as row_hash
    from requests

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous on final.service_request_id = previous.service_request_id
{% endif %}
