{#
  The LA 311 models' incremental window: the requests updated since the newest one
  oltp.service_request holds (that one again, so a request loaded later with the same timestamp
  is not skipped). The lookups (agency, council, request_source, request_type) run before
  service_request in the same dbt run and read the same newest request, so every 311 model folds
  the same window, and an update costs what changed, not the table. The first build (or a model
  built before service_request exists) reads every request. `incremental`: whether this run
  folds a window (an incremental model's own is_incremental(); a table model says when).

  service_request is looked up, not ref'd: the lookups are its parents, and a ref would be a
  cycle. The newest update is read first and written into the query as a constant: compared with
  a subquery, whose value the planner cannot know, Postgres guessed a third of the table and
  scanned all 5M requests for a 1% update; with the constant it reads the window from the
  updateddate index.
#}
{% macro la311_window(alias, incremental=is_incremental()) -%}
    {%- set watermark = service_requests_watermark() if incremental else none -%}
    {%- if watermark is not none %}
    where {{ alias }}.updated_at >= cast('{{ watermark | replace("'", "''") }}' as timestamp with time zone)
    {%- endif %}
{%- endmacro %}
