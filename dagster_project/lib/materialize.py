"""`gourmand materialize`: run any asset selection of the graph in this process, on the current
settings and the home's Dagster instance (so the runs show in the UI), for scripts and cron.

The selection uses Dagster's syntax (`group:hr`, `key:oltp/hr_employee+`, `*`); the asset
checks of the selected assets run with them. A selection may hold at most one partitioning
(daily survey days, or 311 years); a partitioned selection needs `partition`: a key, or
`first...last` for a range in one run (the assets' single-run backfill policy).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from extract.settings import Settings

# what the daily schedule runs: everything but the 311 source's yearly partitions
DAILY_GRAPH = "not group:extract_socrata"
JOB_NAME = "gourmand_materialize"
SELECTION_TAG = "gourmand/selection"  # on each run: what `--from-failure` selects again


class SelectionError(ValueError):
    """The selection cannot run as one job (nothing selected, mixed partitions, no key)."""


def prepare_instance(instance: Any, say: Callable[[str], None]) -> None:
    """Before a run: fail the runs whose process is gone (freeing their pool slots), and say
    which live runs hold a pool slot this run may wait for."""
    from dagster_project.lib.runs import describe_wait, pool_holders, reap_dead_runs

    for run_id, pids in reap_dead_runs(instance):
        say(f"run {run_id} was left STARTED by a process that is gone (pid "
            f"{', '.join(map(str, pids))}): marked failed, its pool slots freed")  # fmt: skip
    for pool in sorted(instance.event_log_storage.get_concurrency_keys()):
        holders = [h for h in pool_holders(instance, pool) if h.alive]
        if holders:
            say(describe_wait(pool, holders))


def _resolve(definitions: Any, selection: str) -> tuple[tuple[str, ...], Any]:
    """The asset keys a selection string selects in `definitions`: (sorted `a/b` strings, the
    AssetKeys)."""
    from dagster import AssetSelection, BetaWarning

    try:
        with warnings.catch_warnings():
            # Dagster's own string parser passes a beta parameter (include_sources) and warns
            # about it: nothing the user typing the selection can act on
            warnings.simplefilter("ignore", BetaWarning)
            keys = AssetSelection.from_string(selection).resolve(definitions.resolve_asset_graph())
    except Exception as exc:  # Dagster raises several types for a bad selection string
        raise SelectionError(f"cannot read the selection {selection!r}: {exc}") from exc
    if not keys:
        raise SelectionError(f"{selection!r} selects no asset")
    # a selection that writes the warehouse publishes it: readers see nothing of a build before
    # its publication (extract/runtime/publication.py)
    from dagster_project.lib.translators import PUBLISHED

    graph = definitions.resolve_asset_graph()
    if graph.has(PUBLISHED) and keys & set(graph.get(PUBLISHED).parent_keys):
        keys = {*keys, PUBLISHED}
    return tuple(sorted(k.to_user_string() for k in keys)), keys


def selection_job(keys: tuple[str, ...]) -> Any:
    """The one-run job of these assets (keys as `a/b` strings), with their checks; a module-level
    function of plain arguments, so Dagster can rebuild the job to re-execute one of its runs
    (an entry point like the code location's `defs`: the definitions of this process's
    settings)."""
    from dagster_project.definitions import defs

    return _job(defs(), keys)


def _job(definitions: Any, keys: tuple[str, ...]) -> Any:
    from dagster import AssetKey, AssetSelection, Definitions, define_asset_job

    graph = definitions.resolve_asset_graph()
    asset_keys = [AssetKey.from_user_string(k) for k in keys]
    partitioned = {graph.get(k).partitions_def for k in asset_keys} - {None}
    job = define_asset_job(
        JOB_NAME,
        selection=AssetSelection.assets(*asset_keys),
        partitions_def=next(iter(partitioned), None),
    )
    return Definitions.merge(definitions, Definitions(jobs=[job])).resolve_job_def(JOB_NAME)


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    success: bool
    materialized: list[str]  # asset keys
    failed_checks: list[str]
    checks: int


def summarize(result: Any) -> RunSummary:
    checks = list(result.get_asset_check_evaluations())
    return RunSummary(
        run_id=result.run_id,
        success=result.success,
        materialized=sorted(
            {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
        ),
        failed_checks=[
            f"{c.asset_key.to_user_string()} {c.check_name}" for c in checks if not c.passed
        ],
        checks=len(checks),
    )


def resume(settings: Settings, run_id: str, *, say: Callable[[str], None] = print) -> RunSummary:
    """Re-execute a failed `materialize` run from its failed steps (the steps that succeeded
    are not run again), with the same assets and partitions, as a new run."""
    from dagster import ReexecutionOptions, build_reconstructable_job, execute_job

    from dagster_project.lib.home import instance_for

    instance = instance_for(settings)
    prepare_instance(instance, say)
    parent = instance.get_run_by_id(run_id)
    if parent is None:
        raise SelectionError(f"no run {run_id} in this home's Dagster instance")
    selection = parent.tags.get(SELECTION_TAG)
    if parent.job_name != JOB_NAME or not selection:
        raise SelectionError(
            f"run {run_id} is a run of job {parent.job_name}: re-execute it from the Dagster UI "
            "(Re-execute > From failure)"
        )
    if not parent.is_failure:
        raise SelectionError(f"run {run_id} did not fail ({parent.status.value})")
    from dagster_project.definitions import build_definitions

    keys, _ = _resolve(build_definitions(settings), selection)
    job = build_reconstructable_job(__name__, "selection_job", reconstructable_args=(keys,))
    options = ReexecutionOptions.from_failure(run_id, instance)
    # the partition (or range) and the selection, as the failed run had them
    tags = {k: v for k, v in parent.tags.items() if k.startswith("dagster/") and "partition" in k}
    tags[SELECTION_TAG] = selection
    with execute_job(
        job, instance, tags=tags, reexecution_options=options, raise_on_error=False
    ) as result:
        return summarize(result)


def check_partition(partition: str | None) -> None:
    """Refuse an empty or blank partition, or a range with an empty side: a script's unset
    `$DAY` arrives as "", which must not read as "not given" (the newest day would run)."""
    if partition is None:
        return
    if not partition.strip():
        raise SelectionError(f"the partition {partition!r} is empty: give a key or FIRST...LAST")
    first, dots, last = partition.partition("...")
    if dots and not (first.strip() and last.strip()):
        raise SelectionError(f"the partition {partition!r} has an empty side: give FIRST...LAST")


def materialize(
    settings: Settings,
    selection: str,
    partition: str | None = None,
    *,
    newest_if_unset: bool = False,
    say: Callable[[str], None] = print,
) -> Any:
    """Execute the selection as one run; returns Dagster's ExecuteInProcessResult. With
    `newest_if_unset`, a partitioned selection without `partition` runs the newest one."""
    check_partition(partition)
    from dagster_project.definitions import build_definitions
    from dagster_project.lib.home import instance_for

    definitions = build_definitions(settings)
    graph = definitions.resolve_asset_graph()
    key_names, keys = _resolve(definitions, selection)
    by_partitioning: dict[Any, list[str]] = {}
    for key in keys:
        partitions = graph.get(key).partitions_def
        if partitions is not None:
            by_partitioning.setdefault(partitions, []).append(key.to_user_string())
    if len(by_partitioning) > 1:
        groups = "; ".join(", ".join(sorted(v)[:3]) for v in by_partitioning.values())
        raise SelectionError(
            f"{selection!r} mixes assets with different partitions ({groups}): select them "
            "in separate runs"
        )
    partitions_def = next(iter(by_partitioning), None)
    tags: dict[str, str] = {}
    partition_key = None
    if partitions_def is not None:
        if not partition and newest_if_unset:
            partition = partitions_def.get_last_partition_key()
        if not partition:
            partitioned = sorted(next(iter(by_partitioning.values())))
            raise SelectionError(
                f"{selection!r} holds partitioned assets ({', '.join(partitioned[:3])}): "
                "pass --partition KEY or FIRST...LAST"
            )
        first, dots, last = partition.partition("...")
        for given in (first, last) if dots else (first,):
            if not partitions_def.has_partition_key(given):
                raise SelectionError(f"{given!r} is not a partition of the selected assets")
        if dots:
            tags = {
                "dagster/asset_partition_range_start": first,
                "dagster/asset_partition_range_end": last,
            }
        else:
            partition_key = first
    elif partition:
        raise SelectionError(f"{selection!r} holds no partitioned asset; drop --partition")
    resolved = _job(definitions, key_names)
    tags = {**tags, SELECTION_TAG: selection}
    instance = instance_for(settings)
    prepare_instance(instance, say)
    return resolved.execute_in_process(
        instance=instance,
        partition_key=partition_key,
        tags=tags,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
