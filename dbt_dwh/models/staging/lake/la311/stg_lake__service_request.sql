-- Every exported version of each LA 311 request, as the lake holds them (it only appends), or
-- no rows before the first 311 load. Unlike the other staging views this one keeps all
-- versions: fct_service_request filters on last_edited_at before it takes the latest version per
-- request, and the filter only reaches the Parquet scan (skipping row groups) ahead of the
-- dedupe. The view is inlined into the query that reads it, on each warehouse.
with

source as (

    {{ lake_or_empty('service_request', service_request_columns()) }}

),

renamed as (

    select
        service_request_id,
        srnumber,
        request_type_id,
        agency_id,
        request_source_id,
        council_id,
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
        last_edited_at

    from source

)

select * from renamed
