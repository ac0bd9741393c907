"""dbt_oltp: raw_<source> -> the normalized `oltp` schema, with dbt tests as asset checks."""
