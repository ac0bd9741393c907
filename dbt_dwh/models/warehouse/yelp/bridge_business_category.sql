-- Business version x category, valid where both the link and the version are.
-- depends_on: {{ ref('dim_business') }}
{{ versioned_bridge(ref('stg_lake__business_category_bridge'), 'category_id', 'category_key') }}
