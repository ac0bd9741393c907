{#
  Reference data (the states page, the Census counties): models rebuilt whole from what the
  sources say now, so that a re-scrape or a re-load after the source changed, in any order and
  any number of times, leaves what one load of the final source into an empty home leaves.

  A source that stops listing a row takes it away: county_growth (no table refers to it) deletes
  such rows itself (strategy replace_all); state and county are parents, built before the
  children that may still refer to a row the source dropped, so their rows go in the sweep at
  the end of the run (sweep_unlisted), once no row refers to them any more. Each deletion leaves
  a tombstone in oltp_meta.deleted_rows, which the lake export carries to the warehouse.
#}

{#
  Incremental strategy replace_all: the model's output is the whole truth, so the rows it no
  longer produces are deleted (with tombstones) and the rest merged: replace_scope's mechanism
  (macros/folding.sql, replace_rows) with every row of the model in scope.
#}
{% macro get_incremental_replace_all_sql(arg_dict) -%}
    {{ replace_rows(arg_dict, 'true') }}
{%- endmacro %}

{#
  One parent's sweep: its rows that `listed_sql` (a query of one text column, key) no longer
  gives and that no child row refers to go, each with a tombstone. Children not built yet hold
  no references.
#}
{% macro sweep_unlisted_rows(table, key, listed_sql, children) -%}
    {%- set unlisted -%}
        not exists (select 1 from ({{ listed_sql }}) as listed where listed.key = parent.{{ key }})
        {%- for child, column in children %}
        and not exists (select 1 from oltp."{{ child }}" as child where child.{{ column }} = parent.{{ key }})
        {%- endfor %}
    {%- endset -%}
    {{ delete_with_tombstones(table, 'oltp."' ~ table ~ '"', 'parent', unlisted, 'cast(parent.' ~ key ~ ' as text)') }}
{%- endmacro %}

{#
  The sweep (on-run-end, after sweep_orphans has taken the cities nothing refers to): counties
  first (a county that goes may free its state), then states. The lists are the ones the models
  build from (county.sql: the Census and the Yelp searches; state.sql: the page and Unknown).
#}
{% macro sweep_unlisted() -%}
    {%- set statements = [] -%}
    {%- set found = {} -%}
    {%- set county_lists = [
        'stg_census__county_population', 'stg_yelp__businesses', 'stg_yelp__events',
    ] -%}
    {%- set relations = [
        ('oltp', 'state'), ('oltp', 'county'), ('oltp', 'city'), ('oltp', 'event'),
        ('oltp', 'county_growth'), ('oltp_staging', 'stg_states__state_abbreviations'),
    ] -%}
    {%- for name in county_lists -%}{%- do relations.append(('oltp_staging', name)) -%}{%- endfor -%}
    {%- for schema, name in relations -%}
        {%- set relation = adapter.get_relation(
            database=target.database, schema=schema, identifier=name
        ) -%}
        {%- if relation is not none -%}{%- do found.update({name: true}) -%}{%- endif -%}
    {%- endfor -%}
    {%- set counties_listed = (county_lists | select('in', found) | list) == county_lists -%}
    {%- if found.get('county') and counties_listed -%}
        {%- set listed -%}
            select {{ stable_key(['county_name', 'state_name']) }} as key
            from oltp_staging.stg_census__county_population
            union
            select {{ stable_key(['county_name', 'state_name']) }} as key
            from oltp_staging.stg_yelp__businesses
            union
            select {{ stable_key(['county_name', 'state_name']) }} as key
            from oltp_staging.stg_yelp__events
        {%- endset -%}
        {%- set children = [] -%}
        {%- for child in ['city', 'event', 'county_growth'] if found.get(child) -%}
            {%- do children.append((child, 'county_id')) -%}
        {%- endfor -%}
        {%- do statements.append(sweep_unlisted_rows('county', 'county_id', listed, children)) -%}
    {%- endif -%}
    {%- if found.get('state') and found.get('stg_states__state_abbreviations') -%}
        {%- set listed -%}
            select {{ stable_key(['state_code']) }} as key
            from oltp_staging.stg_states__state_abbreviations
            union
            select {{ stable_key(["'??'"]) }} as key
        {%- endset -%}
        {%- set children = [('county', 'state_id')] if found.get('county') else [] -%}
        {%- do statements.append(sweep_unlisted_rows('state', 'state_id', listed, children)) -%}
    {%- endif -%}
    {{ statements | join(';\n') }}
{%- endmacro %}
