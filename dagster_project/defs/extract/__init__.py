"""dlt extraction into raw_<source> schemas of the OLTP Postgres and raw/ of the lake."""
