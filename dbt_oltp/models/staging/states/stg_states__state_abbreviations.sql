with

source as (

    select * from {{ source('raw_states', 'state_abbreviations') }}

),

renamed as (

    select
        postal_abbreviation as state_code,
        state_name,
        standard_abbreviation,
        kind as state_kind,
        extracted_at

    from source

)

select * from renamed
