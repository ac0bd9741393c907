"""`make demo`: the embedded stack end to end, through the same Dagster jobs as production.

Starts (or reuses) the home's sandbox and embedded Postgres, loads the sandbox's LA 311 years
(the load step of `socrata_full`), runs the scheduled whole-graph job `gourmand_daily` over a
fixed window of sandbox days as one partition-range run (extract, dbt_oltp, lake export,
dbt_dwh, the 311 models included), then prints what landed.
Re-running it re-loads the same days and changes no row count.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from extract.settings import Settings, get_settings

# Wide enough for the summary table when stdout is a pipe (make, CI logs).
console = Console(width=max(Console().width, 110))


def _instance(settings: Settings) -> Any:
    from dagster_project.lib.home import instance_for

    return instance_for(settings)


def _materializations(result: Any) -> list[tuple[str, dict[str, Any]]]:
    """Metadata per asset; a partition range records one materialization per day with the
    run's figures, so each asset is taken once."""
    found: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        found.setdefault(
            mat.asset_key.to_user_string(), {k: v.value for k, v in mat.metadata.items()}
        )
    return list(found.items())


# Which layer each step (op) of the daily job belongs to, for the timings printed.
_LAYERS = {
    "raw_states": "extract",
    "raw_census": "extract",
    "raw_yelp": "extract",
    "dbt_oltp": "oltp",
    "lake_export": "warehouse",
    "dbt_dwh": "warehouse",
    "dbt_dwh_daily": "warehouse",
    "dbt_dwh_after_daily": "warehouse",
    "raw_socrata": "extract",
    "raw_hr": "extract",
    "hr_report": "warehouse",
    "extracts": "warehouse",
    "dashboards": "warehouse",
}


def _layer_seconds(instance: Any, run_id: str) -> dict[str, float]:
    seconds = dict.fromkeys(set(_LAYERS.values()), 0.0)
    for step in instance.get_run_step_stats(run_id):
        if step.start_time and step.end_time:
            layer = _LAYERS.get(step.step_key, "extract")
            seconds[layer] += step.end_time - step.start_time
    return seconds


def _table_counts(settings: Settings, tables: list[str]) -> dict[str, int]:
    from extract.runtime.postgres import connect

    counts: dict[str, int] = {}
    conn = connect(settings, read_only=True)
    with conn.cursor() as cur:
        for qualified in tables:
            schema, table = qualified.split(".", 1)
            cur.execute(f'SELECT count(*) FROM {schema}."{table}"')
            counts[qualified] = cur.fetchone()[0]
    conn.close()
    return counts


def _oltp_table(settings: Settings, seconds: float) -> Table:
    """Row counts of the OLTP model after the dbt build (which took `seconds`)."""
    from extract.runtime.postgres import connect

    conn = connect(settings, read_only=True)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'oltp' "
            "ORDER BY table_name"
        )
        names = [r[0] for r in cur.fetchall()]
        out = Table(title=f"The OLTP model (schema oltp, dbt build {seconds:.1f}s)")
        for col in ("table", "rows", "current rows"):
            out.add_column(col, justify="left" if col == "table" else "right")
        for name in names:
            cur.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'oltp' "
                "AND table_name = %s AND column_name = 'valid_to'",
                (name,),
            )
            has_validity = cur.fetchone()[0] == 1
            current = "count(*) FILTER (WHERE valid_to IS NULL)" if has_validity else "NULL"
            cur.execute(f'SELECT count(*), {current} FROM oltp."{name}"')
            rows, current_rows = cur.fetchone()
            out.add_row(name, f"{rows:,}", "" if current_rows is None else f"{current_rows:,}")
    conn.close()
    return out


def _warehouse_table(settings: Settings, seconds: float) -> Table:
    """Row counts of the warehouse's dimensions, facts and marts."""
    from extract.runtime.query import run_query, warehouse_tables

    tables = warehouse_tables(settings)
    counts = " union all ".join(
        f"select '{schema}.{name}', count(*) from {schema}.{name}" for schema, name in tables
    )
    _, rows = (
        run_query(counts, target="warehouse", settings=settings, internal=True)
        if tables
        else ([], [])
    )
    out = Table(title=f"The warehouse ({settings.warehouse}, export + dbt build {seconds:.1f}s)")
    out.add_column("table", no_wrap=True)
    out.add_column("rows", justify="right")
    for name, n in rows:
        out.add_row(name, f"{n:,}")
    return out


def _quality_table(settings: Settings, run_ids: list[str]) -> Table:
    """These runs' rows of quality.check_results: every check, its layer, severity, result."""
    from extract.runtime.query import run_query

    _, rows = run_query(
        "SELECT layer, check_name, severity, passed, observed, seconds "
        "FROM quality.check_results WHERE run_id = ANY(%s) ORDER BY result_id",
        target="oltp",
        settings=settings,
        params=[list(run_ids)],
        internal=True,
    )
    total = sum(r[5] for r in rows)
    out = Table(title=f"Quality checks ({len(rows)} results, {total:.1f}s of checking)")
    for col in ("layer", "check", "severity", "result", "observed"):
        out.add_column(col, overflow="fold")
    for layer, name, severity, passed, observed, _ in rows:
        result = "pass" if passed else "[red]FAIL[/red]"
        out.add_row(layer, name, severity, result, observed[:60])
    return out


def _hr_table(settings: Settings, run: Any) -> Table:
    """What the HR step ingested from the drop folder, and where the KPI report is."""
    found = dict(_materializations(run))
    reports = (found.get("reports/hr") or {}).get("reports") or {}
    out = Table(title="HR drop ingested (raw_hr; rejects in raw_hr._rejects)")
    for col in ("table", "received", "loaded", "rejected", "inserted", "updated", "in raw_hr"):
        out.add_column(col, justify="left" if col == "table" else "right")
    for table in ("departments", "jobs", "employees"):
        meta = found.get(f"raw_hr/{table}") or {}
        out.add_row(
            table,
            *(f"{meta.get(k, 0):,}" for k in ("received", "loaded", "rejected", "inserted")),
            f"{meta.get('updated', 0):,}",
            f"{meta.get('dagster/row_count', 0):,}",
        )
    out.caption = "reports: " + ", ".join(f"{y}: {p}" for y, p in sorted(reports.items()))
    return out


def _socrata_table(run: Any, seconds: float) -> Table:
    """The 311 load's metadata."""
    meta = dict(_materializations(run))["raw_socrata/service_requests"]
    out = Table(title=f"LA 311 (raw_socrata.service_requests, load {seconds:.1f}s)")
    for col in ("mode", "years", "inserted", "updated", "rejected", "rows/s", "watermark"):
        out.add_column(col, justify="left" if col in ("mode", "years") else "right")
    out.add_row(
        meta["mode"], meta["years"], f"{meta['inserted']:,}", f"{meta['updated']:,}",
        f"{meta['rejected']:,}", f"{meta['rows_per_second']:,.0f}", meta["watermark"],
    )  # fmt: skip
    return out


def run_demo(days: int | None = None) -> int:
    settings = get_settings()
    days = days or settings.demo_days
    started = time.perf_counter()
    # a sandbox started here is stopped when the command ends (extract.cli.leave_as_found)
    if settings.sources_mode == "sandbox" and not settings.yelp_base_url:
        from extract.sandbox import process

        console.print(f"sandbox      {process.start_sandbox(settings)['url']}")
    return _run(settings, days, started)


def _print_where(settings: Settings) -> None:
    """Where this home's parts are."""
    from extract.runtime.postgres import connection_info

    info = connection_info(settings)
    where = "embedded pgserver" if settings.embedded_postgres else "GOURMAND_OLTP_DSN"
    console.print(f"postgres     {info.host}:{info.port}/{info.database} ({where})")
    console.print(f"lake         {settings.lake_url}")
    warehouse: object = settings.warehouse
    if settings.warehouse == "duckdb":
        from extract.runtime.publication import build_path, published

        record = published(settings)
        # what readers read: the published build, not the file the next run writes
        warehouse = (
            build_path(settings, str(record["id"]))
            if record
            else f"{settings.warehouse_path} (no build published yet)"
        )
    console.print(f"warehouse    {warehouse}")
    console.print(f"dagster home {settings.dagster_home}")


def _execute(
    defs: Any,
    instance: Any,
    log_path: Path,
    job: str,
    title: str,
    partitions: tuple[str, str],
    **options: Any,
) -> Any:
    """Run `job` over the range of `partitions` as one run, its progress on screen and its full
    output in `log_path`; the result, or None (said so) when the run failed."""
    from dagster_project.lib.progress import logs_to_file, run_progress

    run_id = str(uuid.uuid4())
    with logs_to_file(log_path) as screen, run_progress(instance, run_id, screen, title):
        result = defs.resolve_job_def(job).execute_in_process(
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            raise_on_error=False,
            run_id=run_id,
            tags={
                "dagster/asset_partition_range_start": partitions[0],
                "dagster/asset_partition_range_end": partitions[1],
            },
            **options,
        )
    if result.success:
        return result
    console.print(
        f"[red]run {result.run_id} failed; full log: {log_path}; each step in the Dagster UI "
        "(make dev)[/red]"
    )
    return None


def _drop_hr_files(settings: Settings) -> None:
    """The HR system's export from the sandbox into the drop folder: the daily graph's raw_hr
    step ingests what is in the folder."""
    from extract.sandbox import process

    sandbox = process.running_sandbox(settings) if settings.sources_mode == "sandbox" else None
    if sandbox:
        from extract.sources.hr.drops import fetch_sandbox_drop

        fetch_sandbox_drop(settings, sandbox["url"])
        console.print(f"\nHR drop      {settings.hr_drops} (departments, jobs, employees)")


def _landed_table(settings: Settings, run: Any, days: int, seconds: float) -> Table:
    """What the extraction steps loaded, table by table, beside what Postgres holds."""
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for asset, meta in _materializations(run):
        if "tables" not in meta:
            continue  # dbt and lake assets: shown by the two tables below
        for table, n in sorted((meta.get("tables") or {}).items()):
            schema = asset.split("/")[0]
            rows.append((asset, f"{schema}.{table}", {**meta, "rows": n}))
    counts = _table_counts(settings, [r[1] for r in rows])
    out = Table(title=f"What landed ({days} sandbox days, {seconds:.1f}s)")
    out.add_column("table", no_wrap=True)
    for col in ("rows loaded", "seconds", "rows/s", "rows in postgres", "rejected"):
        out.add_column(col, justify="right")
    for asset, table, meta in rows:
        is_root = table.split(".")[1] == asset.split("/")[1]
        out.add_row(
            table,
            f"{meta['rows']:,}",
            f"{meta['seconds']:.2f}",
            f"{meta['rows'] / meta['seconds']:,.0f}" if meta["seconds"] else "-",
            f"{counts[table]:,}",
            f"{meta['rejected']:,}" if is_root else "",
        )
    return out


def _run(settings: Settings, days: int, started: float) -> int:
    from dagster import AssetKey

    from dagster_project.definitions import build_definitions
    from dagster_project.lib.materialize import prepare_instance

    _print_where(settings)
    instance = _instance(settings)
    defs = build_definitions(settings)
    prepare_instance(instance, lambda msg: console.print(f"[yellow]{msg}[/yellow]"))
    log_path = settings.home / "logs" / f"demo-{time.strftime('%Y%m%d-%H%M%S')}.log"
    console.print(f"logs         {log_path} (Dagster's and dbt's full output)")
    # LA 311 first: the load step of socrata_full for the sandbox's years as one run; the daily
    # graph below then builds its OLTP tables, lake export, fact and marts with everything else
    # (one dbt build per project instead of two)
    years = sorted(settings.socrata_years)
    la311 = _execute(
        defs, instance, log_path, "socrata_full",
        f"job socrata_full (LA 311, its load) for {years[0]}..{years[-1]}",
        (str(years[0]), str(years[-1])),
        asset_selection=[AssetKey(["raw_socrata", "service_requests"])],
    )  # fmt: skip
    if la311 is None:
        return 1
    _drop_hr_files(settings)
    first = settings.start_date
    last = first + timedelta(days=days - 1)
    run = _execute(
        defs, instance, log_path, "gourmand_daily",
        f"job gourmand_daily (the scheduled one) for {first}..{last} as one run",
        (first.isoformat(), last.isoformat()),
    )  # fmt: skip
    if run is None:
        return 1
    layer = _layer_seconds(instance, run.run_id)
    console.print(_landed_table(settings, run, days, layer["extract"]))
    console.print(_socrata_table(la311, _layer_seconds(instance, la311.run_id)["extract"]))
    console.print(_hr_table(settings, run))
    console.print(_oltp_table(settings, layer["oltp"]))
    console.print(_warehouse_table(settings, layer["warehouse"]))
    console.print(_quality_table(settings, [run.run_id, la311.run_id]))
    console.print(f"end to end: {time.perf_counter() - started:.1f}s")
    console.print(
        "\nNext:\n"
        "  make dev                      # the Dagster UI on http://127.0.0.1:3000\n"
        "  .venv/bin/gourmand sql --target oltp "
        '"select count(*) from raw_states.state_abbreviations"\n'
        f"  ls {settings.lake_url.removeprefix('file://')}/raw   # the Parquet copies\n"
    )
    return 0
