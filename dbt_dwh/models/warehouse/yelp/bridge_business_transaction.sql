-- Business version x transaction type, valid where both the link and the version are.
-- depends_on: {{ ref('dim_business') }}
{{ versioned_bridge(
    ref('stg_lake__business_transaction_bridge'), 'transaction_type_id', 'transaction_type_key'
) }}
