"""`gourmand materialize`: run any asset selection of the graph in this process, on the current
settings and the home's Dagster instance (so the runs show in the UI), for scripts and cron.

The selection uses Dagster's syntax (`group:hr`, `key:oltp/hr_employee+`, `*`); the asset
checks of the selected assets run with them. A selection may hold at most one partitioning
(daily survey days, or 311 years); a partitioned selection needs `partition`: a key, or
`first...last` for a range in one run (the assets' single-run backfill policy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from extract.settings import Settings

# what the daily schedule runs: everything but the 311 source's yearly partitions
DAILY_GRAPH = "not group:extract_socrata"


class SelectionError(ValueError):
    """The selection cannot run as one job (nothing selected, mixed partitions, no key)."""


def prepare_instance(instance: Any, say: Callable[[str], None]) -> None:
    """Before a run: fail the runs whose process is gone (freeing their pool slots), and say
    which live runs hold a pool slot this run may wait for."""
    from dagster_project.runs import describe_wait, pool_holders, reap_dead_runs

    for run_id, pids in reap_dead_runs(instance):
        say(f"run {run_id} was left STARTED by a process that is gone (pid "
            f"{', '.join(map(str, pids))}): marked failed, its pool slots freed")  # fmt: skip
    for pool in sorted(instance.event_log_storage.get_concurrency_keys()):
        holders = [h for h in pool_holders(instance, pool) if h.alive]
        if holders:
            say(describe_wait(pool, holders))


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
    from dagster import AssetSelection, Definitions, define_asset_job

    from dagster_project.definitions import defs
    from dagster_project.home import instance_for

    graph = defs.resolve_asset_graph()
    try:
        chosen = AssetSelection.from_string(selection)
        keys = chosen.resolve(graph)
    except Exception as exc:  # Dagster raises several types for a bad selection string
        raise SelectionError(f"cannot read the selection {selection!r}: {exc}") from exc
    if not keys:
        raise SelectionError(f"{selection!r} selects no asset")
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
    job = define_asset_job("gourmand_materialize", selection=chosen, partitions_def=partitions_def)
    resolved = Definitions.merge(defs, Definitions(jobs=[job])).resolve_job_def(
        "gourmand_materialize"
    )
    instance = instance_for(settings)
    prepare_instance(instance, say)
    return resolved.execute_in_process(
        instance=instance,
        partition_key=partition_key,
        tags=tags,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
