with

source as (

    {{ latest_version(
        '(' ~ lake_or_empty('service_request', service_request_columns()) ~ ') as lake_rows',
        ['service_request_id'],
    ) }}

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
