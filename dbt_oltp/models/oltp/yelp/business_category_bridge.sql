-- Which business is in which category, as validity islands over survey days.
-- depends_on: {{ ref('business') }}
-- depends_on: {{ ref('business_category') }}
{{ business_link_model(
    'stg_yelp__business_categories', 'businesses__categories', 'category_alias', 'category_id'
) }}
