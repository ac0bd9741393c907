-- depends_on: {{ ref('int_la311__fold_scope') }}

-- The lookup values of the requests this run folds (macros/la311.sql), each combination once
-- with the newest update that carries it: one scan of the requests for the four lookup tables
-- (agency, council, request_source, request_type), which each scanned them whole before.
with

requests as (

    select staged.* from {{ ref('stg_socrata__service_requests') }} as staged
    {{ la311_window('staged') }}

),

final as (

    select
        council_number,
        council_name,
        coalesce(request_type_name, 'Unknown') as request_type_name,
        coalesce(agency_code, 'Unknown') as agency_code,
        coalesce(request_source_name, 'Unknown') as request_source_name,
        max(updated_at) as updated_at

    from requests
    group by 1, 2, 3, 4, 5

)

select * from final
