{#
  Folding survey days into the OLTP model, in any order and any number of times.

  The Yelp source loads one survey day per batch and records it in raw_yelp._loads (one row per
  resource and day, replaced with a new load id whenever the day is loaded again). A model that
  folds survey days keeps, in oltp_meta.folded_days, the load ids it last folded for each day;
  the days whose load ids differ are its fold scope, whatever their order:

  - capture_fold_scope (pre-hook, in the model's transaction) snapshots the scope into
    oltp_meta.fold_scope and, for models keyed by entity, the entities the scope touches into
    oltp_meta.fold_keys;
  - the model recomputes exactly those days or entities from raw (fold_days(), fold_keys());
  - the replace_scope strategy deletes the rows of the scope the model no longer produces
    (each with a tombstone in oltp_meta.deleted_rows, which the lake export carries to the
    warehouse) and merges the rest;
  - commit_fold_scope (post-hook, same transaction) records the scope as folded.

  A crash anywhere rolls the model's transaction back, scope included: the next run folds the
  same days again. `dbt run --full-refresh` refolds every day in place (the OLTP models are
  `full_refresh: false`), so foreign keys survive and unchanged rows keep their last_edited_at.
#}

{# The oltp_meta tables (on-run-start): the ledger, the scope of a running model, tombstones. #}
{% macro create_fold_tables() -%}
    create schema if not exists oltp_meta;
    create table if not exists oltp_meta.folded_days (
        model text not null,
        surveyed_on date not null,
        fingerprint text not null,
        primary key (model, surveyed_on)
    );
    create table if not exists oltp_meta.fold_scope (
        model text not null,
        surveyed_on date not null,
        fingerprint text,
        primary key (model, surveyed_on)
    );
    create table if not exists oltp_meta.fold_keys (
        model text not null,
        key text not null,
        primary key (model, key)
    );
    create table if not exists oltp_meta.deleted_rows (
        table_name text not null,
        row_key text not null,
        deleted_at timestamp with time zone not null
    );
    create index if not exists deleted_rows_deleted_at on oltp_meta.deleted_rows (deleted_at);
    -- the raw LA 311 loads each 311 model has folded (macros/la311.sql)
    create table if not exists oltp_meta.folded_loads (
        model text not null,
        load_id text not null,
        primary key (model, load_id)
    );
{%- endmacro %}

{# Survey days the Yelp source has loaded: one per businesses batch in its ledger. #}
{% macro survey_days() -%}
    select distinct cast(batch as date) as surveyed_on
    from {{ source('raw_yelp', '_loads') }}
    where resource = 'businesses'
{%- endmacro %}

{#
  Pre-hook: the days to fold (every day on a first build or a full refresh, else the days whose
  load ids changed since this model last folded them, or that were folded and are gone), and
  the entities they touch (`keys_sql`: a query of one text column `key`, given the days).
#}
{% macro capture_fold_scope(resources, keys_sql=none) -%}
    {%- set model = this.identifier -%}
    {%- set everything = flags.FULL_REFRESH or load_relation(this) is none -%}
    delete from oltp_meta.fold_scope where model = '{{ model }}';
    delete from oltp_meta.fold_keys where model = '{{ model }}';
    insert into oltp_meta.fold_scope (model, surveyed_on, fingerprint)
    with loaded as (
        select
            cast(batch as date) as surveyed_on,
            string_agg(resource || '@' || _dlt_load_id, ',' order by resource) as fingerprint
        from {{ source('raw_yelp', '_loads') }}
        where resource in ('{{ resources | join("', '") }}')
        group by 1
    ),

    folded as (
        select surveyed_on, fingerprint from oltp_meta.folded_days where model = '{{ model }}'
    )

    select '{{ model }}', coalesce(loaded.surveyed_on, folded.surveyed_on), loaded.fingerprint
    from loaded
    full outer join folded on loaded.surveyed_on = folded.surveyed_on
    {%- if not everything %}
    where loaded.fingerprint is distinct from folded.fingerprint
    {%- endif %};
    {%- if keys_sql is not none and load_relation(this) is not none %}
    insert into oltp_meta.fold_keys (model, key)
    select distinct '{{ model }}', scope_keys.key from ({{ keys_sql }}) as scope_keys
    where scope_keys.key is not null;
    {%- endif %}
{%- endmacro %}

{# Post-hook: the scope is folded; forget it. #}
{% macro commit_fold_scope() -%}
    {%- set model = this.identifier -%}
    delete from oltp_meta.folded_days as ledger
    using oltp_meta.fold_scope as scope
    where
        ledger.model = '{{ model }}'
        and scope.model = ledger.model
        and scope.surveyed_on = ledger.surveyed_on;
    insert into oltp_meta.folded_days (model, surveyed_on, fingerprint)
    select model, surveyed_on, fingerprint
    from oltp_meta.fold_scope
    where model = '{{ model }}' and fingerprint is not null;
    delete from oltp_meta.fold_scope where model = '{{ model }}';
    delete from oltp_meta.fold_keys where model = '{{ model }}';
{%- endmacro %}

{# The days this run folds (a subquery of one column, surveyed_on). #}
{% macro fold_days() -%}
    (select surveyed_on from oltp_meta.fold_scope where model = '{{ this.identifier }}')
{%- endmacro %}

{# The entities this run folds (a subquery of one text column, key). #}
{% macro fold_keys() -%}
    (select key from oltp_meta.fold_keys where model = '{{ this.identifier }}')
{%- endmacro %}

{# Survey days from the first day in this run's scope on (the days a folded entity is rebuilt
   over; earlier ones stay as they are). #}
{% macro days_from_first_folded() -%}
    select days.surveyed_on
    from ({{ survey_days() }}) as days
    where days.surveyed_on >= (select min(scope.surveyed_on) from {{ fold_days() }} as scope)
{%- endmacro %}

{#
  The key of a row as one text (tombstones name rows by it): key columns joined with '|', as the
  warehouse spells it too (dbt_dwh's tombstone_key).
#}
{% macro tombstone_key(alias, columns) -%}
    concat_ws('|', {%- for col in columns %} cast({{ alias }}.{{ col }} as text){{ "," if not loop.last }}{%- endfor %})
{%- endmacro %}

{#
  Every deletion of the OLTP model goes through here: the rows of `relation` (aliased `alias`)
  where `condition` holds go, each with a tombstone in oltp_meta.deleted_rows (`table_name` and
  the row's key, `row_key`, an expression over `alias`), which the lake export carries to the
  warehouse.
#}
{% macro delete_with_tombstones(table_name, relation, alias, condition, row_key) -%}
    with gone as (
        delete from {{ relation }} as {{ alias }}
        where {{ condition }}
        returning {{ row_key }} as row_key
    )

    insert into oltp_meta.deleted_rows (table_name, row_key, deleted_at)
    select '{{ table_name }}', row_key, cast('{{ run_started_at }}' as timestamp with time zone)
    from gone
{%- endmacro %}

{#
  A model's rows replaced by its output (arg_dict: an incremental strategy's): the target's rows
  where `stale_condition` holds (over alias `stale`: the rows the output is the whole truth for)
  and the output lacks go, with tombstones; the output is merged, rows whose row_hash is
  unchanged left alone. `stale_condition` none: only the merge.
#}
{% macro replace_rows(arg_dict, stale_condition) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='name') | list -%}
    {%- if stale_condition is not none %}
    {%- set gone -%}
        {{ stale_condition }}
        and not exists (
            select 1 from {{ source }} as fresh
            where {% for key in keys %}fresh.{{ key }} = stale.{{ key }}{{ " and " if not loop.last }}{% endfor %}
        )
    {%- endset %}
    {{ delete_with_tombstones(target.identifier, target, 'stale', gone, tombstone_key('stale', keys)) }};
    {%- endif %}

    {%- set quoted = columns | map('replace', '"', '') | map('string') | list %}
    insert into {{ target }} as existing ({% for col in quoted %}"{{ col }}"{{ ", " if not loop.last }}{% endfor %})
    select {% for col in quoted %}"{{ col }}"{{ ", " if not loop.last }}{% endfor %} from {{ source }}
    on conflict ({{ keys | join(', ') }}) do update set
    {%- for col in quoted if col not in keys %}
        "{{ col }}" = excluded."{{ col }}"{{ "," if not loop.last }}
    {%- endfor %}
    where existing.row_hash is distinct from excluded.row_hash
{%- endmacro %}

{#
  Incremental strategy replace_scope: the model's output is the whole truth for its scope (the
  days or entities being folded), so rows of the scope it no longer produces are deleted, each
  with a tombstone, and the rest merged (rows whose row_hash is unchanged are left alone).
  Config: unique_key (the row's key), scope_column (a column of the scope's days or keys, or
  none: the strategy then only merges, for parent tables whose stale rows go in the sweep).
#}
{% macro get_incremental_replace_scope_sql(arg_dict) -%}
    {%- set scope_column = config.get('scope_column') -%}
    {%- if not scope_column -%}
        {{ replace_rows(arg_dict, none) }}
    {%- elif scope_column == 'surveyed_on' -%}
        {{ replace_rows(arg_dict, 'stale.surveyed_on in ' ~ fold_days()) }}
    {%- else -%}
        {{ replace_rows(arg_dict, 'cast(stale.' ~ scope_column ~ ' as text) in ' ~ fold_keys()) }}
    {%- endif -%}
{%- endmacro %}

{#
  The sweep (on-run-end): a parent row that no child refers to any more has lost its evidence
  (a re-run day no longer lists it), and goes, with a tombstone. Parents cannot go in their own
  model: they are built before the children that still refer to them.
#}
{% macro sweep_unreferenced(table, key, children) -%}
    {%- set unreferenced -%}
        {%- for child, column in children %}
        not exists (select 1 from oltp."{{ child }}" as child where child.{{ column }} = parent.{{ key }})
        {{- " and" if not loop.last }}
        {%- endfor %}
    {%- endset -%}
    {{ delete_with_tombstones(table, 'oltp."' ~ table ~ '"', 'parent', unreferenced, 'cast(parent.' ~ key ~ ' as text)') }}
{%- endmacro %}

{% macro sweep_orphans() -%}
    {%- set sweeps = [
        ('business', 'business_id', [('business_version', 'business_id'), ('business_holding', 'business_id'),
            ('business_category_bridge', 'business_id'), ('business_transaction_bridge', 'business_id'),
            ('review', 'business_id')]),
        ('user', 'user_id', [('review', 'user_id')]),
        ('business_category', 'category_id', [('business_category_bridge', 'category_id')]),
        ('transaction_type', 'transaction_type_id', [('business_transaction_bridge', 'transaction_type_id')]),
        ('city', 'city_id', [('business', 'city_id'), ('business_version', 'city_id')]),
        ('event_category', 'event_category_id', [('event', 'event_category_id')]),
    ] -%}
    {%- set statements = [] -%}
    {%- for table, key, children in sweeps -%}
        {%- set names = [table] + (children | map(attribute=0) | list) -%}
        {%- set present = [] -%}
        {%- for name in names -%}
            {%- if adapter.get_relation(database=target.database, schema='oltp', identifier=name) is not none -%}
                {%- do present.append(name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if present | length == names | length -%}
            {%- do statements.append(sweep_unreferenced(table, key, children)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ statements | join(';\n') }}
{%- endmacro %}
