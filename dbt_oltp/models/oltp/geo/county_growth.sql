{{
    config(
        unique_key=['county_id', 'estimation_year'],
        incremental_strategy='replace_all',
        indexes=[{'columns': ['county_id']}],
    )
}}

-- The Census's whole answer, every build: a county or a year it no longer gives is deleted
-- (replace_all, macros/reference_data.sql), as a load into an empty home would not have it.

-- depends_on: {{ ref('county') }}

with

estimates as (

    select * from {{ ref('stg_census__county_population') }}

),

final as (

    select
        {{ stable_key(['county_name', 'state_name']) }} as county_id,
        estimation_year,
        population,
        {{ row_hash(['population']) }} as row_hash
    from estimates

)

select
    final.*,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous
        on
            final.county_id = previous.county_id
            and final.estimation_year = previous.estimation_year
{% endif %}
