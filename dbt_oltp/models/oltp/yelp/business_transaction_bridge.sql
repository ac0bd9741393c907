-- Which business offers which transaction type, as validity islands over survey days.
-- depends_on: {{ ref('business') }}
-- depends_on: {{ ref('transaction_type') }}
{{ business_link_model(
    'stg_yelp__business_transactions', 'businesses__transactions', 'transaction_type',
    'transaction_type_id'
) }}
