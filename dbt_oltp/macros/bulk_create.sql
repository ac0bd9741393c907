{#
  A contracted table's first build, as a bulk load: the table is created with its columns, types
  and not-null / check constraints, filled, and only then given its primary key, unique and
  foreign key constraints (dbt-postgres puts them all in the CREATE TABLE).

  Why: declared inline, every inserted row updates the key's index one entry at a time and
  queues one trigger event per foreign key, each checked by its own lookup at the end of the
  statement. 5M LA 311 requests with four foreign keys were 20M lookups and 153 s. Added after
  the insert, the key's index is built by one sort, and each foreign key is validated by one
  anti-join (Postgres's initial check of ALTER TABLE ... ADD FOREIGN KEY). The end state is the
  same table with the same constraints, in the same transaction: a failure leaves nothing.

  Later runs of an incremental model insert into the existing table, with its constraints: there
  the rows are the change, and the per-row checks cost what changed.
#}
{% macro postgres__create_table_as(temporary, relation, sql) -%}
    {%- set contract_config = config.get('contract') -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    {%- if contract_config.enforced and not temporary %}
        {{ get_assert_columns_equivalent(sql) }}
        {%- set split = split_contract_constraints(model['columns'], model['constraints']) %}
        create {% if config.get('unlogged', default=false) %}unlogged {% endif -%}
        table {{ relation }} (
            {{ adapter.render_raw_columns_constraints(raw_columns=split['columns']) | join(',\n') }}
        );
        insert into {{ relation }} ({{ adapter.dispatch('get_column_names', 'dbt')() }})
        {{ get_select_subquery(sql) }};
        {%- for constraint in adapter.render_raw_model_constraints(raw_constraints=split['deferred']) %}
        alter table {{ relation }} add {{ constraint }};
        {%- endfor %}
    {%- else %}
        create {% if temporary %}temporary {% elif config.get('unlogged', default=false) %}unlogged {% endif -%}
        table {{ relation }} as ({{ sql }});
    {%- endif %}
{%- endmacro %}

{#
  The contract's columns with only the constraints a row can be checked against on its own
  (not null, check), and the others (primary key, unique, foreign key, column or model level)
  as model-level constraints, to add once the rows are in.
#}
{% macro split_contract_constraints(columns, model_constraints) -%}
    {%- set deferred_types = ['primary_key', 'unique', 'foreign_key'] -%}
    {%- set kept_columns = {} -%}
    {%- set deferred = [] -%}
    {%- for name, column in columns.items() -%}
        {%- set inline = [] -%}
        {%- for constraint in column['constraints'] -%}
            {%- if constraint['type'] in deferred_types -%}
                {#- the same constraint, naming its column (absent keys stay absent) -#}
                {%- set moved = {'columns': [name]} -%}
                {%- for key in ['type', 'name', 'expression', 'to', 'to_columns', 'warn_unenforced', 'warn_unsupported'] -%}
                    {%- if constraint.get(key) is not none -%}
                        {%- do moved.update({key: constraint.get(key)}) -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- do deferred.append(moved) -%}
            {%- else -%}
                {%- do inline.append(constraint) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set kept = {} -%}
        {%- do kept.update(column) -%}
        {%- do kept.update({'constraints': inline}) -%}
        {%- do kept_columns.update({name: kept}) -%}
    {%- endfor -%}
    {%- for constraint in model_constraints -%}
        {%- do deferred.append(constraint) -%}
    {%- endfor -%}
    {{ return({'columns': kept_columns, 'deferred': deferred}) }}
{%- endmacro %}
