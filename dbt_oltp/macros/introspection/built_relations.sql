{#
  Macros that ask the database or the invocation. The linter has neither: it skips this folder
  (exclude_macros_from_path in .sqlfluff) and takes the stand-ins defined there.
#}

{#
  The finished LA 311 loads (raw_socrata._socrata_loads.load_ids, written once a load is whole)
  that some 311 model has not folded yet; every finished load on a first build (a 311 model does
  not exist yet) or a full refresh. Homes loaded before load ids were recorded there: every load
  id the raw table holds (those loads have all finished). [] while nothing is loaded, or parsing.
#}
{% macro la311_loads_to_fold() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set loads = adapter.get_relation(
        database=this.database, schema='raw_socrata', identifier='_socrata_loads') -%}
    {%- if loads is none -%}{{ return([]) }}{%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(loads) | map(attribute='name') | list -%}
    {%- if 'load_ids' in columns -%}
        {%- set finished -%}
            select distinct unnest(string_to_array(load_ids, ',')) as load_id
            from {{ loads }} where load_ids is not null
        {%- endset -%}
    {%- else -%}
        {%- set finished -%}
            select distinct _dlt_load_id as load_id from raw_socrata.service_requests
        {%- endset -%}
    {%- endif -%}
    {%- set models = la311_folding_models() -%}
    {%- set everything = flags.FULL_REFRESH -%}
    {%- for name in models -%}
        {%- if adapter.get_relation(database=this.database, schema='oltp', identifier=name) is none -%}
            {%- set everything = true -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set query -%}
        with finished as ({{ finished }}),

        folded as (
            select load_id from oltp_meta.folded_loads
            where model in ('{{ models | join("', '") }}')
            group by load_id
            having count(*) = {{ models | length }}
        )

        select finished.load_id from finished
        {%- if not everything %}
        where finished.load_id not in (select folded.load_id from folded)
        {%- endif %}
        order by 1
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{# This run's 311 scope: the load ids int_la311__fold_scope holds ([] while parsing). #}
{% macro la311_scope() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set scope = run_query('select load_id from ' ~ ref('int_la311__fold_scope') ~ ' order by 1') -%}
    {{ return(scope.columns[0].values() | list) }}
{%- endmacro %}
