with

source as (

    {{ source_or_empty('raw_socrata', 'service_requests', {
        'srnumber': 'text',
        'requesttype': 'text',
        'status': 'text',
        'actiontaken': 'text',
        'createddate': 'timestamp with time zone',
        'updateddate': 'timestamp with time zone',
        'servicedate': 'timestamp with time zone',
        'closeddate': 'timestamp with time zone',
        'requestsource': 'text',
        'anonymous': 'text',
        'mobileos': 'text',
        'owner': 'text',
        'nc': 'bigint',
        'ncname': 'text',
        'policeprecinct': 'text',
        'apc': 'text',
        'assignto': 'text',
        'cd': 'bigint',
        'cdmember': 'text',
        'address': 'text',
        'zipcode': 'text',
        'latitude': 'double precision',
        'longitude': 'double precision',
        '_dlt_load_id': 'text',
    }) }}

),

renamed as (

    select
        srnumber,
        requesttype as request_type_name,
        status,
        actiontaken as action_taken,
        createddate as created_at,
        updateddate as updated_at,
        servicedate as service_date,
        closeddate as closed_at,
        requestsource as request_source_name,
        mobileos as mobile_os,
        owner as agency_code,
        nc as council_number,
        ncname as council_name,
        policeprecinct as police_precinct,
        apc as area_planning_commission,
        assignto as assigned_to,
        cd as council_district,
        cdmember as council_member,
        address,
        zipcode as zip_code,
        latitude,
        longitude,
        -- the load that brought this version: the 311 models fold by load (macros/la311.sql)
        _dlt_load_id as load_id,
        anonymous = 'Y' as is_anonymous

    from source

)

select * from renamed
