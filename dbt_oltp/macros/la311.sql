{#
  Folding LA 311 loads into the OLTP model, in any order and any number of times.

  Every finished socrata load records its load ids in raw_socrata._socrata_loads (after its
  dedupe and indexes: a load listed there is whole). Each 311 model remembers, in
  oltp_meta.folded_loads, the loads it has folded; a run folds the finished loads that some 311
  model has not folded yet (int_la311__fold_scope, built first), whatever their order: a year
  loaded after a later one, an update, a year loaded again. The raw rows carry their load id
  (_dlt_load_id, indexed), so a run reads the rows of its loads only: an update costs what it
  brought, not the table.

  Why not the newest updated_at already folded (this project's first window): a year loaded after
  a later year has only older timestamps and was never folded, and a later year's requests last
  updated before the earlier load's newest were skipped too.

  The scope is one table built at the start of the run, so every 311 model of the run folds the
  same loads (the lookups never miss a value service_request's foreign keys need), and each
  model's post-hook records exactly those (in the model's transaction: a crash records nothing,
  and the next run folds the same loads again). The load ids are written into each query as
  constants, so Postgres reads the window from the load-id index: with a subquery whose value it
  cannot know, it guessed a third of the table and scanned all 5M requests for a 1% update.
#}

{# The 311 models that fold loads (each keeps its own ledger in oltp_meta.folded_loads). #}
{% macro la311_folding_models() -%}
    {{ return(['agency', 'council', 'request_source', 'request_type', 'service_request']) }}
{%- endmacro %}

{# The filter of a 311 model's requests (`alias` reads stg_socrata__service_requests): the
   loads in this run's scope. #}
{% macro la311_window(alias) -%}
    {%- set loads = la311_scope() %}
    where
    {%- if loads | length > 0 %} {{ alias }}.load_id in ({{ la311_literals(loads) }})
    {%- else %} false
    {%- endif %}
{%- endmacro %}

{# Load ids as SQL string literals (they come from the ledger, quoted all the same). #}
{% macro la311_literals(loads) -%}
    {%- for load in loads %}'{{ load | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor -%}
{%- endmacro %}

{# Post-hook of the 311 models: this run's scope is folded into this model. #}
{% macro record_folded_loads() -%}
    insert into oltp_meta.folded_loads (model, load_id)
    select '{{ this.identifier }}', scope.load_id
    from {{ ref('int_la311__fold_scope') }} as scope
    on conflict do nothing
{%- endmacro %}

{# Post-hook of service_request: tell the planner how many (request type, agency, month opened)
   groups there are, the groups of reporting.service_request_summary. Without it Postgres
   multiplies the columns' distinct counts, guesses 1.3M groups for 144 at 5M requests, and
   aggregates on one core; with it, the summary's aggregation runs in parallel workers (4.7 s ->
   3.0 s at 5M). Created once per table (a full refresh makes a new table: its statistics are
   named after its oid, as the old table's still exist until dbt drops it) and analyzed then, so
   the first build's summary has them too; later runs leave them to autovacuum's analyze. #}
{% macro la311_group_statistics() -%}
    do $$
    begin
        if not exists (
            select 1 from pg_statistic_ext
            where stxrelid = '{{ this }}'::regclass and stxname like 'service_request_groups_%'
        ) then
            execute format(
                'create statistics %I.%I (ndistinct) on request_type_id, agency_id, '
                '(cast(date_trunc(''month'', created_at) as date)) from {{ this }}',
                '{{ this.schema }}', 'service_request_groups_' || '{{ this }}'::regclass::oid
            );
            analyze {{ this }};
        end if;
    end
    $$
{%- endmacro %}
