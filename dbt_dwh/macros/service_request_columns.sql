{# The lake's service_request columns and their types (for lake_or_empty's empty branch). #}
{% macro service_request_columns() -%}
    {{ return({
        'service_request_id': 'string',
        'srnumber': 'string',
        'request_type_id': 'string',
        'agency_id': 'string',
        'request_source_id': 'string',
        'council_id': 'string',
        'status': 'string',
        'action_taken': 'string',
        'created_at': 'timestamptz',
        'updated_at': 'timestamptz',
        'service_date': 'timestamptz',
        'closed_at': 'timestamptz',
        'is_anonymous': 'boolean',
        'mobile_os': 'string',
        'assigned_to': 'string',
        'address': 'string',
        'zip_code': 'string',
        'latitude': 'float',
        'longitude': 'float',
        'council_district': 'bigint',
        'council_member': 'string',
        'police_precinct': 'string',
        'area_planning_commission': 'string',
        'last_edited_at': 'timestamptz',
    }) }}
{%- endmacro %}
