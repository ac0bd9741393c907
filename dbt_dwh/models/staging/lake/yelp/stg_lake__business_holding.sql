with

source as (

    {{ visible_version(
        source('lake', 'business_holding'), ['business_id', 'surveyed_on'], 'business_holding'
    ) }}

),

renamed as (

    select
        business_id,
        surveyed_on,
        rating,
        review_count,
        last_edited_at

    from source

)

select * from renamed
