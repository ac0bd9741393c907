with

source as (

    {{ visible_version(source('lake', 'state'), ['state_id'], 'state') }}

),

renamed as (

    select
        state_id,
        state_code,
        state_name,
        standard_abbreviation,
        state_kind,
        country_id,
        last_edited_at

    from source

)

select * from renamed
