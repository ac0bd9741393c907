{#
  Reading the daily snapshots of raw_yelp (one row per entity per survey day) for the entities a
  run folds. Written for the incremental case's cost: what the run's days brought, plus one
  index lookup per entity, never the entity's whole history (except for the rare entity whose
  newest snapshot a re-run day took away).
#}

{#
  The newest snapshot (newest survey day, then newest extraction) of each entity this run folds,
  from staging view `relation` keyed by `natural_key`; `{{ this }}` must have `natural_key` and
  `last_surveyed_on`. An entity no snapshot mentions any more is absent from the result.
#}
{% macro newest_snapshots(relation, natural_key) -%}
    {%- if is_incremental() %}
    with

    folded as (

        select key as natural_key from {{ fold_keys() }}

    ),

    candidates as (

        -- what the folded days say, and the newest day known before, where it was not refolded
        select snapshot.{{ natural_key }} as natural_key, snapshot.surveyed_on
        from {{ relation }} as snapshot
        where
            snapshot.surveyed_on in {{ fold_days() }}
            and snapshot.{{ natural_key }} in (select natural_key from folded)
        union all
        select known.{{ natural_key }}, known.last_surveyed_on
        from {{ this }} as known
        where
            known.{{ natural_key }} in (select natural_key from folded)
            and known.last_surveyed_on not in {{ fold_days() }}

    ),

    newest_known as (

        select natural_key, max(surveyed_on) as surveyed_on
        from candidates
        group by natural_key

    ),

    looked_back as (

        -- a refolded day took their newest snapshot away: the newest one left, anywhere
        select snapshot.{{ natural_key }} as natural_key, max(snapshot.surveyed_on) as surveyed_on
        from {{ relation }} as snapshot
        where snapshot.{{ natural_key }} in (
            select natural_key from folded
            except
            select natural_key from newest_known
        )
        group by snapshot.{{ natural_key }}

    ),

    newest as (

        select * from newest_known
        union all
        select * from looked_back

    )

    select distinct on (snapshot.{{ natural_key }}) snapshot.*
    from {{ relation }} as snapshot
    inner join newest
        on
            snapshot.{{ natural_key }} = newest.natural_key
            and snapshot.surveyed_on = newest.surveyed_on
    order by snapshot.{{ natural_key }} asc, snapshot.extracted_at desc
    {%- else %}
    select distinct on ({{ natural_key }}) *
    from {{ relation }}
    where {{ natural_key }} is not null
    order by {{ natural_key }} asc, surveyed_on desc, extracted_at desc
    {%- endif %}
{%- endmacro %}

{# Fold keys of an entity model: entities the folded days mention, or whose newest snapshot was
   on a folded day. #}
{% macro snapshot_keys(relation, natural_key) -%}
    select snapshot.{{ natural_key }} as key
    from {{ relation }} as snapshot
    where snapshot.surveyed_on in {{ fold_days() }}
    union
    select known.{{ natural_key }}
    from {{ this }} as known
    where known.last_surveyed_on in {{ fold_days() }}
{%- endmacro %}

{#
  The first survey day after `day` (null if none): when a business or link no longer listed
  stopped being valid.
#}
{% macro next_survey_day(day) -%}
    (
        select min(later.surveyed_on) from ({{ survey_days() }}) as later
        where later.surveyed_on > {{ day }}
    )
{%- endmacro %}

{#
  Validity islands of links between a business and another entity (a category, a transaction
  type): a link is valid on the survey days it is listed, as runs of consecutive survey days
  [valid_from, valid_to), valid_to the first survey day it is no longer listed (null while
  listed on the newest day). Incrementally, the links of the folded businesses are rebuilt from
  the first folded day: the last island that reaches it continues (or not), earlier islands are
  kept as they are.
  `relation` has yelp_business_id, surveyed_on and `other_natural`; the output has business_id,
  `other_id`, valid_from, valid_to.
#}
{% macro link_islands(relation, other_natural, other_id) -%}
    with

    sightings as (

        select
            {{ stable_key(['yelp_business_id']) }} as business_id,
            {{ stable_key([other_natural]) }} as {{ other_id }},
            surveyed_on
        from {{ relation }}
        {%- if is_incremental() %}
        where surveyed_on >= (select min(scope.surveyed_on) from {{ fold_days() }} as scope)
        {%- endif %}

    ),

    days as (

        {% if is_incremental() %}{{ days_from_first_folded() }}{% else %}{{ survey_days() }}{% endif %}

    ),

    {% if is_incremental() -%}
    earlier as (

        select
            link.*,
            row_number() over (
                partition by link.business_id, link.{{ other_id }} order by link.valid_from desc
            ) as recency
        from {{ this }} as link
        where
            link.business_id in {{ fold_keys() }}
            and link.valid_from < (select min(scope.surveyed_on) from {{ fold_days() }} as scope)

    ),

    continued as (

        -- the newest earlier island of a link, if it reaches the first folded day
        select *
        from earlier
        where
            recency = 1
            and (
                valid_to is null
                or valid_to >= (select min(scope.surveyed_on) from {{ fold_days() }} as scope)
            )

    ),

    kept as (

        select business_id, {{ other_id }}, valid_from, valid_to
        from earlier
        where not (
            recency = 1
            and (
                valid_to is null
                or valid_to >= (select min(scope.surveyed_on) from {{ fold_days() }} as scope)
            )
        )

    ),
    {%- endif %}

    links as (

        select distinct business_id, {{ other_id }}
        from sightings
        {%- if is_incremental() %}
        where business_id in {{ fold_keys() }}
        union
        select business_id, {{ other_id }} from continued
        {%- endif %}

    ),

    states as (

        -- each link on each survey day from the first one considered: listed or not
        {%- if is_incremental() %}
        select business_id, {{ other_id }}, valid_from as surveyed_on, true as is_listed
        from continued
        union all
        {%- endif %}
        select
            links.business_id,
            links.{{ other_id }},
            days.surveyed_on,
            sightings.surveyed_on is not null as is_listed
        from links
        cross join days
        left join sightings
            on
                links.business_id = sightings.business_id
                and links.{{ other_id }} = sightings.{{ other_id }}
                and days.surveyed_on = sightings.surveyed_on

    ),

    changes as (

        select
            *,
            -- the first day of a link, or a change from listed to not or back
            coalesce(
                is_listed <> lag(is_listed) over (
                    partition by business_id, {{ other_id }} order by surveyed_on
                ),
                true
            ) as starts_run
        from states

    ),

    runs as (

        select
            business_id,
            {{ other_id }},
            surveyed_on as valid_from,
            is_listed,
            lead(surveyed_on) over (
                partition by business_id, {{ other_id }} order by surveyed_on
            ) as valid_to
        from changes
        where starts_run

    )

    select business_id, {{ other_id }}, valid_from, valid_to
    from runs
    where is_listed
    {%- if is_incremental() %}
    union all
    select business_id, {{ other_id }}, valid_from, valid_to from kept
    {%- endif %}
{%- endmacro %}

{# Fold keys of business_version: businesses listed on a folded day, and those whose listed
   versions cover one (a folded day that does not list them closes them). #}
{% macro business_version_keys() -%}
    select {{ stable_key(['listing.yelp_business_id']) }} as key
    from {{ ref('stg_yelp__businesses') }} as listing
    where listing.surveyed_on in {{ fold_days() }}
    union
    select known.business_id
    from {{ this }} as known
    inner join {{ fold_days() }} as scope
        on
            known.valid_from <= scope.surveyed_on
            and (known.valid_to is null or scope.surveyed_on < known.valid_to)
    where known.is_listed
{%- endmacro %}

{# Fold keys of business: businesses listed on a folded day, those whose newest listing was on
   one, and those a folded day may close or reopen (still open, or closed after it). #}
{% macro business_keys() -%}
    {{ snapshot_keys(ref('stg_yelp__businesses'), 'yelp_business_id') }}
    union
    select known.yelp_business_id
    from {{ this }} as known
    where
        known.last_surveyed_on < (select max(scope.surveyed_on) from {{ fold_days() }} as scope)
        and (
            known.valid_to is null
            or known.valid_to > (select min(scope.surveyed_on) from {{ fold_days() }} as scope)
        )
{%- endmacro %}

{# Fold keys of a link model: businesses with links listed on a folded day, and those whose
   links cover one (a folded day without the link ends it). #}
{% macro link_keys(relation) -%}
    select {{ stable_key(['sighting.yelp_business_id']) }} as key
    from {{ relation }} as sighting
    where sighting.surveyed_on in {{ fold_days() }}
    union
    select link.business_id
    from {{ this }} as link
    inner join {{ fold_days() }} as scope
        on
            link.valid_from <= scope.surveyed_on
            and (link.valid_to is null or scope.surveyed_on < link.valid_to)
{%- endmacro %}

{#
  When each value of a small lookup (a category, a transaction type) was first and last listed,
  over all survey days, and valid_to: the first survey day after the last one it was listed
  (null while listed on the newest day). Recomputed whole on every run: the lookups are tens of
  rows, and their sightings one indexed scan; a value no longer listed anywhere goes in the
  run's sweep.
#}
{% macro sightings(relation, natural_keys, attributes=[]) -%}
    with

    seen as (

        select
            {% for col in natural_keys %}{{ col }},{% endfor %}
            {% for col in attributes %}max({{ col }}) as {{ col }},{% endfor %}
            min(surveyed_on) as first_seen_on,
            max(surveyed_on) as last_seen_on
        from {{ relation }}
        group by {{ natural_keys | join(', ') }}

    )

    select
        seen.*,
        {{ next_survey_day('seen.last_seen_on') }} as valid_to
    from seen
{%- endmacro %}

{#
  A business link model (business_category_bridge, business_transaction_bridge): the validity
  islands of `staging`'s links, rebuilt for the businesses a fold touches (dlt resource
  `resource`), each row's last_edited_at kept while its content is unchanged. The two models
  differ only in the linked entity, so they are this one macro.
#}
{% macro business_link_model(staging, resource, other_natural, other_id) -%}
{{ config(
    unique_key=['business_id', other_id, 'valid_from'],
    incremental_strategy='replace_scope',
    scope_column='business_id',
    indexes=[
        {'columns': ['business_id']},
        {'columns': [other_id]},
        {'columns': ['last_edited_at']},
    ],
    pre_hook="{{ capture_fold_scope(['businesses', '" ~ resource ~ "'], link_keys(ref('"
        ~ staging ~ "'))) }}",
    post_hook="{{ commit_fold_scope() }}",
) }}

with

islands as (

    {{ link_islands(ref(staging), other_natural, other_id) }}

),

final as (

    select
        *,
        {{ row_hash(['valid_to']) }} as row_hash
    from islands

)

select
    final.business_id,
    final.{{ other_id }},
    final.valid_from,
    final.valid_to,
    final.row_hash,
    {{ changed_at('final.row_hash', 'previous') }} as last_edited_at
from final
{% if is_incremental() %}
    left join {{ this }} as previous
        on
            final.business_id = previous.business_id
            and final.{{ other_id }} = previous.{{ other_id }}
            and final.valid_from = previous.valid_from
{% endif %}
{%- endmacro %}
