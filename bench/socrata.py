"""LA 311 at scale: the whole chain against the physical limits, measured in one run.

N rows (default 1,000,000; `make bench N=5000000`) of one sandbox year are served over loopback:

- the limits: the download of every CSV page as the source pages it (into one local CSV),
  Postgres `COPY` of that CSV into a plain table, DuckDB `read_parquet` CTAS of the same rows
  written as Parquet;
- the chain, each stage in a process of its own (so that its peak RSS is its own; dbt's modules
  are imported before its clock starts): the full load (`run_source("socrata")`, download
  included), the dbt_oltp run of the 311 models (`+service_request_summary`), the lake export
  of the five 311 tables, the dbt_dwh run of `fct_service_request` and the three 311 marts
  (with what they need upstream) into the DuckDB warehouse. The chain's wall time is the sum of
  the four; dbt's model time is from `run_results.json`, without dbt's start-up;
- three updates with 1% of the requests changed (a later `changed_at` each time), each through
  the whole chain, on a quiet database; the median by the chain's time;
- each stage's peak RSS again in a second, smaller run (`--rss-baseline`, 1M rows), when N is
  larger: memory is flat when it does not grow with the rows;
- then, in a separate home, the demo-sized Yelp chain (the steps of `bench.builds.full_build`).

Goals (`TARGETS`): the chain >= 0.2 x COPY rows/s; the load stage >= 0.5 x COPY and the load end
to end >= 0.25 x; the lake export >= 0.5 x `read_parquet`; dbt_oltp >= 150k rows/s of model
time; the update's load <= 10% of the full load at 1M (<= 5% at 5M) and the update's whole chain
<= 10% of the full chain; every stage's peak RSS <= 1.5 GiB, and at most 1.25 x its RSS at 1M.
Prints the table with each goal met or missed, writes `bench/results/latest.json`, and exits 1
when a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")
YEAR = 2024
TARGETS = {
    "load_vs_copy": 0.5,
    "e2e_vs_copy": 0.25,
    "chain_vs_copy": 0.2,
    "lake_vs_read_parquet": 0.5,
    "oltp_rows_per_s": 150_000,
    "update_chain_vs_full": 0.10,
    "peak_rss_gib": 1.5,
    "rss_growth": 1.25,  # a stage's peak RSS at N over its peak at RSS_BASELINE_ROWS: flat
}
RSS_BASELINE_ROWS = 1_000_000
STAGES = ("load", "oltp", "export", "dwh")
OLTP_SELECT = "+service_request_summary"
LA311_TABLES = ["agency", "council", "request_source", "request_type", "service_request"]
DWH_SELECT = (
    "+service_requests_per_type_per_month +days_to_close_by_agency +open_backlog_by_council"
)


def _settings(home: Path, url: str) -> Any:
    from extract.settings import load_settings

    return load_settings(
        {
            "GOURMAND_HOME": str(home),
            "GOURMAND_SOCRATA_BASE_URL": url,
            "GOURMAND_SOCRATA_YEARS": str(YEAR),
            "GOURMAND_YELP_BASE_URL": url + "/v3",
            "GOURMAND_CENSUS_BASE_URL": url + "/data",
            "GOURMAND_STATES_URL": url + "/abbreviations.htm",
            "PATH": os.environ["PATH"],
        }
    )


def _stage(name: str, home: str, url: str, work: str, options: dict[str, Any]) -> dict[str, Any]:
    """One stage of the chain, in this (child) process: its seconds and what it reports. dbt's
    modules are imported before the clock starts, as in a Dagster worker that has run dbt once."""
    from extract.lake.export import export_oltp
    from extract.pipelines import run_source
    from extract.runtime.dbt_invoke import run_dbt

    settings = _settings(Path(home), url)
    started = time.perf_counter()
    if name == "load":
        run = run_source("socrata", settings=settings, options=options, to_lake=False)
        return {"seconds": time.perf_counter() - started, "load": run.load}
    if name == "export":
        export = export_oltp(settings, tables=LA311_TABLES)
        return {
            "seconds": time.perf_counter() - started,
            "rows": export.rows["service_request"],
            "total_rows": export.total_rows,
        }
    project, select = ("dbt_oltp", OLTP_SELECT) if name == "oltp" else ("dbt_dwh", DWH_SELECT)
    dbt = run_dbt(project, ["run", "--select", select], settings, target_path=Path(work) / project)
    if dbt.returncode != 0:
        raise RuntimeError(f"{project}: dbt run --select {select} failed:\n{dbt.stdout[-4000:]}")
    models = {
        r["unique_id"].rsplit(".", 1)[-1]: round(r["execution_time"], 3)
        for r in dbt.run_results.get("results", [])
    }
    return {
        "seconds": dbt.seconds,
        "model_seconds": max(dbt.node_seconds("model"), 1e-9),
        "models_s": models,  # where a stage's time goes, model by model
    }


def _child_stage(
    name: str, home: str, url: str, work: str, options: dict[str, Any], out: Any
) -> None:
    import dbt.cli.main  # noqa: F401  # imported before the stage's clock starts

    try:
        result = _stage(name, home, url, work, options)
    except Exception as exc:  # noqa: BLE001  # reported to the parent, which fails the bench
        out.send({"error": f"{type(exc).__name__}: {exc}"})
        return
    out.send({**result, "peak_rss_gib": _peak_rss_gib()})


def _peak_rss_gib() -> float:
    """This process's peak RSS. Not getrusage's ru_maxrss: Linux carries it over exec, so a
    spawned child would report the parent's RSS at fork time; VmHWM belongs to this image."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # not Linux


def _in_child(
    name: str, home: Path, url: str, work: Path, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Stage `name` in its own process, so that its peak RSS is its own."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    args = (name, str(home), url, str(work), options or {}, child)
    proc = ctx.Process(target=_child_stage, args=args)
    proc.start()
    child.close()  # so that a child that dies makes recv() raise instead of waiting forever
    try:
        result = parent.recv()
    except EOFError:
        proc.join()
        raise RuntimeError(f"stage {name} died in its process (exit {proc.exitcode})") from None
    proc.join()
    if "error" in result:
        sys.exit(f"stage {name} failed: {result['error']}")
    return result


class _CsvPage:
    """A page's header and body, sized by its rows (what the paginator counts)."""

    def __init__(self, content: bytes) -> None:
        header, _, body = content.partition(b"\n")
        self.header, self.body = header, body if body.endswith(b"\n") or not body else body + b"\n"
        self.rows = self.body.count(b"\n")

    def __len__(self) -> int:
        return self.rows


def _download(url: str, csv_path: Path) -> tuple[float, int]:
    """Every CSV page of the year, as the source pages it, appended into one file."""
    from extract.settings import load_settings
    from extract.sources.registry import http_policy
    from extract.sources.rest import OffsetUntilShortPage, paginate_raw, rest_client
    from extract.sources.socrata.datasets import LA311_DATASETS
    from extract.sources.socrata.pages import PAGE_ROWS

    client = rest_client(url, http=http_policy(load_settings({"PATH": os.environ["PATH"]})))
    rows = 0
    started = time.perf_counter()
    with csv_path.open("wb") as out:
        pages = paginate_raw(
            client,
            f"/resource/{LA311_DATASETS[YEAR]}.csv",
            {"$order": ":id"},
            "bench",
            OffsetUntilShortPage(PAGE_ROWS, offset_param="$offset", limit_param="$limit"),
            lambda r: _CsvPage(r.content),
        )
        for page in pages:
            if rows == 0:
                out.write(page.header + b"\n")
            out.write(page.body)
            rows += page.rows
    return time.perf_counter() - started, rows


def _copy(settings: Any, csv_path: Path) -> float:
    from extract.runtime.postgres import connect
    from extract.sources.socrata.pages import COLUMNS

    conn = connect(settings)
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS public.bench_copy")
        cur.execute(
            "CREATE TABLE public.bench_copy (" + ", ".join(f"{c} text" for c in COLUMNS) + ")"
        )
        conn.commit()
        started = time.perf_counter()
        with csv_path.open("rb") as fh:
            header = fh.readline().decode().strip()
            cur.copy_expert(f"COPY public.bench_copy ({header}) FROM STDIN WITH (FORMAT csv)", fh)
        conn.commit()
        seconds = time.perf_counter() - started
        cur.execute("DROP TABLE public.bench_copy")
    conn.commit()
    conn.close()
    return seconds


def _read_parquet(csv_path: Path, work: Path) -> float:
    import duckdb
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pacsv.read_csv(csv_path)
    parquet = work / "rows.parquet"
    pq.write_table(table, parquet)
    del table
    con = duckdb.connect(str(work / "bench.duckdb"))
    started = time.perf_counter()
    con.execute(f"create table t as select * from read_parquet('{parquet}')")
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def _parse(settings: Any, work: Path) -> None:
    """dbt parse of both projects into the benchmark's target folders, before anything is
    timed: the stages then start from dbt's partial parse, as they do on a set-up machine."""
    from extract.runtime.dbt_invoke import run_dbt

    for project in ("dbt_oltp", "dbt_dwh"):
        run = run_dbt(project, ["parse"], settings, target_path=work / project)
        if run.returncode != 0:
            sys.exit(f"{project}: dbt parse failed:\n{run.stdout[-4000:]}")


def _chain(home: Path, url: str, work: Path, load_options: dict[str, Any]) -> dict[str, Any]:
    """One pass of the chain, each stage in its own process: the load, the dbt_oltp run of the
    311 models, the lake export of the five 311 tables and the dbt_dwh run of the fact and its
    three marts. Per stage: seconds, model seconds (dbt), rows (export) and peak RSS."""
    stages = {"load": _in_child("load", home, url, work, load_options)}
    for name in ("oltp", "export", "dwh"):
        stages[name] = _in_child(name, home, url, work)
    stages["chain_s"] = sum(stages[name]["seconds"] for name in STAGES)
    return stages


def _count_facts(settings: Any) -> int:
    import duckdb

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        row = con.execute("select count(*) from dwh.fct_service_request").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


def _rss_baseline(n: int, root: Path) -> dict[str, float]:
    """Each stage's peak RSS for `n` rows in a home of its own: what "flat with volume" is
    measured against."""
    from extract.runtime.postgres import stop_embedded
    from extract.sandbox import SandboxConfig, SandboxServer

    home, work = root / "home", root
    server = SandboxServer(SandboxConfig(socrata_years=str(YEAR), socrata_rows_per_year=n)).start()
    settings = _settings(home, server.url)
    try:
        _warm(server)
        _parse(settings, work)
        chain = _chain(home, server.url, work, {"mode": "full", "years": [YEAR]})
    finally:
        server.stop()
        stop_embedded(settings)
    return {name: chain[name]["peak_rss_gib"] for name in STAGES}


def _yelp_demo(root: Path) -> dict[str, float]:
    """The demo-sized Yelp chain (`bench.builds.full_build`: 7 days of the default sandbox
    extracted, `dbt build` of dbt_oltp, the lake export, `dbt build` of dbt_dwh) in its own
    home; each layer's seconds."""
    from bench.builds import full_build
    from extract.sandbox import SandboxConfig

    result = full_build("yelp_demo", SandboxConfig(), 7, root)
    return {
        "extract_s": result["extract_seconds"],
        "oltp_build_s": result["build_seconds"],
        "lake_export_s": result["export_seconds"],
        "warehouse_build_s": result["dwh_build_seconds"],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=int(os.environ.get("N") or 1_000_000))
    parser.add_argument(
        "--rss-baseline", type=int, default=RSS_BASELINE_ROWS,
        help="rows of the second, smaller run each stage's peak RSS is compared with (0: none)",
    )  # fmt: skip
    args = parser.parse_args()
    # The run writes several GiB (CSV, Parquet, Postgres data at 5M rows): always removed.
    work = Path(tempfile.mkdtemp(prefix="gourmand-bench-socrata-"))
    try:
        return _run(args.rows, args.rss_baseline, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _quiet(settings: Any, timeout: float = 180.0) -> float:
    """Seconds waited until no autovacuum worker runs, then a CHECKPOINT: the update is timed on
    the database a nightly update finds, not while autovacuum still digests the million rows
    the full load and the chain just wrote (on two cores it took half the update's time)."""
    from extract.runtime.postgres import connect

    started = time.perf_counter()
    conn = connect(settings)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            while time.perf_counter() - started < timeout:
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
                )
                if cur.fetchone()[0] == 0:
                    break
                time.sleep(0.5)
            cur.execute("CHECKPOINT")
    finally:
        conn.close()
    return time.perf_counter() - started


def _warm(server: Any) -> None:
    """Make the sandbox generate the year (cached) before anything is timed against it."""
    from extract.sources.socrata.datasets import LA311_DATASETS

    status, _, _ = server.handle("GET", f"/resource/{LA311_DATASETS[YEAR]}.json?$limit=1", {})
    assert status == 200, f"the sandbox answered {status} to the warm-up request"


def _run(n: int, baseline_rows: int, work: Path) -> int:
    from extract.runtime.postgres import stop_embedded
    from extract.sandbox import SandboxConfig, SandboxServer

    home = work / "home"
    figures: dict[str, Any] = {"rows": n}
    base = SandboxServer(SandboxConfig(socrata_years=str(YEAR), socrata_rows_per_year=n)).start()
    settings = _settings(home, base.url)
    try:
        try:
            started = time.perf_counter()
            _warm(base)  # the sandbox's cost, not the source's: generate the year up front
            figures["generate_s"] = time.perf_counter() - started
            csv_path = work / "rows.csv"
            figures["download_s"], downloaded = _download(base.url, csv_path)
            assert downloaded == n, f"downloaded {downloaded} of {n} rows"
            figures["copy_s"] = _copy(settings, csv_path)
            figures["read_parquet_s"] = _read_parquet(csv_path, work)
            csv_path.unlink()
            _parse(settings, work)
            full = _chain(home, base.url, work, {"mode": "full", "years": [YEAR]})
        finally:
            base.stop()
        assert full["load"]["load"]["inserted"] == n, full["load"]["load"]
        assert full["export"]["rows"] == n, f"the lake export wrote {full['export']['rows']} of {n}"
        assert (facts := _count_facts(settings)) == n, f"the fact has {facts} of {n} requests"
        # Three updates, each changing the same 1% again a day later (a new sandbox with a
        # later changed_at), each through the whole chain: the median, since a run of a few
        # seconds is at the mercy of the noise
        updates: list[dict[str, Any]] = []
        for day in (1, 2, 3):
            changed = SandboxServer(
                SandboxConfig(
                    socrata_years=str(YEAR),
                    socrata_rows_per_year=n,
                    socrata_changed_fraction=0.01,
                    socrata_changed_at=f"2025-06-0{day}T00:00:00",
                )
            ).start()
            _warm(changed)
            figures["quiet_wait_s"] = _quiet(settings)
            try:
                updates.append(_chain(home, changed.url, work, {"mode": "update"}))
            finally:
                changed.stop()
        assert (facts := _count_facts(settings)) == n, f"after the updates the fact has {facts}"
    finally:
        stop_embedded(settings)
    changed_rows = {u["load"]["load"]["updated"] for u in updates}
    assert len(changed_rows) == 1 and min(changed_rows) > 0, changed_rows
    exported = {u["export"]["rows"] for u in updates}
    assert exported == changed_rows, f"the update exports wrote {exported}, not {changed_rows}"
    update = sorted(updates, key=lambda u: u["chain_s"])[1]
    if baseline_rows and baseline_rows < n:
        figures["rss_baseline_rows"] = baseline_rows
        figures["rss_baseline_gib"] = _rss_baseline(baseline_rows, work / "baseline")
    figures["yelp_demo"] = _yelp_demo(work)
    figures.update(_figures(n, full, update, updates))
    return _report(n, figures)


def _figures(
    n: int, full: dict[str, Any], update: dict[str, Any], updates: list[dict[str, Any]]
) -> dict[str, Any]:
    """The stages' seconds and the ratios of `latest.json`."""
    # filled in by _run before: copy_s, read_parquet_s, download_s
    return {
        "stages_s": {name: full[name]["seconds"] for name in STAGES},
        "stages_peak_rss_gib": {name: full[name]["peak_rss_gib"] for name in STAGES},
        "full_s": full["load"]["seconds"],
        "full_inserted": full["load"]["load"]["inserted"],
        "peak_rss_gib": max(full[name]["peak_rss_gib"] for name in STAGES),
        "oltp_build_s": full["oltp"]["seconds"],
        "oltp_model_s": full["oltp"]["model_seconds"],
        "oltp_rows_per_s": n / full["oltp"]["model_seconds"],
        "lake_export_s": full["export"]["seconds"],
        "lake_export_rows": full["export"]["total_rows"],
        "lake_rows_per_s": full["export"]["total_rows"] / full["export"]["seconds"],
        "warehouse_build_s": full["dwh"]["seconds"],
        "warehouse_model_s": full["dwh"]["model_seconds"],
        "warehouse_rows_per_s": n / full["dwh"]["model_seconds"],
        "chain_s": full["chain_s"],
        "update_s": update["load"]["seconds"],
        "update_updated": update["load"]["load"]["updated"],
        "update_runs_s": [round(u["load"]["seconds"], 3) for u in updates],
        "update_stages_s": {name: update[name]["seconds"] for name in STAGES},
        "update_models_s": {n: update[n].get("models_s", {}) for n in ("oltp", "dwh")},
        "models_s": {n: full[n].get("models_s", {}) for n in ("oltp", "dwh")},
        "update_chain_s": update["chain_s"],
        "update_chain_runs_s": [round(u["chain_s"], 3) for u in updates],
        "update_peak_rss_gib": {name: update[name]["peak_rss_gib"] for name in STAGES},
    }


def _report(n: int, figures: dict[str, Any]) -> int:
    """Ratios, goals, the table; writes the results; 1 when a goal is missed."""
    copy_rps = n / figures["copy_s"]
    read_parquet_rps = n / figures["read_parquet_s"]
    full_s = figures["full_s"]
    load_s = max(full_s - figures["download_s"], 1e-9)
    figures.update(
        copy_rows_per_s=copy_rps,
        read_parquet_rows_per_s=read_parquet_rps,
        download_rows_per_s=n / figures["download_s"],
        load_rows_per_s=n / load_s,
        e2e_rows_per_s=n / full_s,
        load_vs_copy=(n / load_s) / copy_rps,
        e2e_vs_copy=(n / full_s) / copy_rps,
        lake_vs_read_parquet=figures["lake_rows_per_s"] / read_parquet_rps,
        warehouse_vs_read_parquet=figures["warehouse_rows_per_s"] / read_parquet_rps,
        chain_rows_per_s=n / figures["chain_s"],
        chain_vs_copy=(n / figures["chain_s"]) / copy_rps,
        update_vs_full=figures["update_s"] / full_s,
        update_chain_vs_full=figures["update_chain_s"] / figures["chain_s"],
    )
    update_target = 0.05 if n >= 5_000_000 else 0.10
    rss = figures["stages_peak_rss_gib"]
    baseline = figures.get("rss_baseline_gib")
    if baseline:
        figures["rss_growth"] = {name: rss[name] / baseline[name] for name in STAGES}
    checks = {
        "load_vs_copy": figures["load_vs_copy"] >= TARGETS["load_vs_copy"],
        "e2e_vs_copy": figures["e2e_vs_copy"] >= TARGETS["e2e_vs_copy"],
        "chain_vs_copy": figures["chain_vs_copy"] >= TARGETS["chain_vs_copy"],
        "lake_vs_read_parquet": figures["lake_vs_read_parquet"] >= TARGETS["lake_vs_read_parquet"],
        "oltp_rows_per_s": figures["oltp_rows_per_s"] >= TARGETS["oltp_rows_per_s"],
        "update_vs_full": figures["update_vs_full"] <= update_target,
        "update_chain_vs_full": figures["update_chain_vs_full"] <= TARGETS["update_chain_vs_full"],
        "peak_rss_gib": all(
            max(rss[s], figures["update_peak_rss_gib"][s]) <= TARGETS["peak_rss_gib"]
            for s in STAGES
        ),
    }
    if baseline:
        checks["rss_flat"] = all(g <= TARGETS["rss_growth"] for g in figures["rss_growth"].values())
    figures["missed"] = [name for name, ok in checks.items() if not ok]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(figures, indent=2))
    (RESULTS / f"socrata-{n}.json").write_text(json.dumps(figures, indent=2))
    _print(n, figures, checks, update_target)
    return 1 if figures["missed"] else 0


def _mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _print(n: int, f: dict[str, Any], checks: dict[str, bool], update_target: float) -> None:
    stages, rss, upd = f["stages_s"], f["stages_peak_rss_gib"], f["update_stages_s"]
    print(f"LA 311, {n:,} rows of one sandbox year (results in bench/results/latest.json)")
    rows = [
        ("limit: download (CSV pages over loopback)", f["download_s"], f["download_rows_per_s"],
         "", None, ""),
        ("limit: Postgres COPY of the CSV", f["copy_s"], f["copy_rows_per_s"], "1.00 x COPY",
         None, ""),
        ("limit: DuckDB read_parquet CTAS", f["read_parquet_s"], f["read_parquet_rows_per_s"],
         "", None, ""),
        ("download + load (raw), end to end", stages["load"], f["e2e_rows_per_s"],
         f"{f['e2e_vs_copy']:.2f} x COPY", rss["load"],
         f">= {TARGETS['e2e_vs_copy']}: {_mark(checks['e2e_vs_copy'])}"),
        ("  load stage (end to end - download)", stages["load"] - f["download_s"],
         f["load_rows_per_s"], f"{f['load_vs_copy']:.2f} x COPY", None,
         f">= {TARGETS['load_vs_copy']}: {_mark(checks['load_vs_copy'])}"),
        ("dbt_oltp, 311 models (model time)", f["oltp_model_s"], f["oltp_rows_per_s"],
         f"dbt run {stages['oltp']:.1f} s wall", rss["oltp"],
         f">= {TARGETS['oltp_rows_per_s']:,.0f} rows/s: {_mark(checks['oltp_rows_per_s'])}"),
        ("lake export, 311 tables", stages["export"], f["lake_rows_per_s"],
         f"{f['lake_vs_read_parquet']:.2f} x read_parquet", rss["export"],
         f">= {TARGETS['lake_vs_read_parquet']}: {_mark(checks['lake_vs_read_parquet'])}"),
        ("dbt_dwh, fact + 3 marts (model time)", f["warehouse_model_s"],
         f["warehouse_rows_per_s"],
         f"{f['warehouse_vs_read_parquet']:.2f} x read_parquet; dbt run {stages['dwh']:.1f} s",
         rss["dwh"], ""),
        ("chain: download -> marts, wall", f["chain_s"], f["chain_rows_per_s"],
         f"{f['chain_vs_copy']:.3f} x COPY", f["peak_rss_gib"],
         f">= {TARGETS['chain_vs_copy']}: {_mark(checks['chain_vs_copy'])}"),
        ("update, 1% changed: load", f["update_s"], None,
         f"{f['update_vs_full']:.3f} x full load", f["update_peak_rss_gib"]["load"],
         f"<= {update_target}: {_mark(checks['update_vs_full'])}"),
        ("update, 1% changed: whole chain", f["update_chain_s"], None,
         f"{f['update_chain_vs_full']:.3f} x full chain", None,
         f"<= {TARGETS['update_chain_vs_full']}: {_mark(checks['update_chain_vs_full'])}"),
    ]  # fmt: skip
    print(f"  {'stage':<44} {'seconds':>8} {'rows/s':>12}  {'against its limit':<34} "
          f"{'peak RSS':>8}  goal")  # fmt: skip
    for name, seconds, rps, ratio, peak, goal in rows:
        rate = f"{rps:>12,.0f}" if rps else " " * 12
        memory = f"{peak:6.2f} G" if peak is not None else " " * 8
        print(f"  {name:<44} {seconds:8.2f} {rate}  {ratio:<34} {memory}  {goal}")
    print(f"  update stages (median of 3 by chain: {', '.join(map(str, f['update_chain_runs_s']))}"
          f" s): " + ", ".join(f"{s} {upd[s]:.2f} s" for s in STAGES))  # fmt: skip
    rss_line = ", ".join(f"{s} {rss[s]:.2f}" for s in STAGES)
    print(f"  peak RSS per stage (GiB): {rss_line}; goal <= {TARGETS['peak_rss_gib']}: "
          f"{_mark(checks['peak_rss_gib'])}")  # fmt: skip
    if "rss_growth" in f:
        growth = ", ".join(f"{s} {g:.2f}x" for s, g in f["rss_growth"].items())
        print(f"  peak RSS at {n:,} / at {f['rss_baseline_rows']:,} rows: {growth}; goal <= "
              f"{TARGETS['rss_growth']}x (flat): {_mark(checks['rss_flat'])}")  # fmt: skip
    y = f["yelp_demo"]
    print(f"  demo-sized Yelp chain (7 days): extract {y['extract_s']:.2f} s, dbt_oltp "
          f"{y['oltp_build_s']:.2f} s, lake export {y['lake_export_s']:.2f} s, dbt_dwh "
          f"{y['warehouse_build_s']:.2f} s")  # fmt: skip
    missed = f["missed"]
    print("all goals met" if not missed else f"MISSED: {', '.join(missed)}")


if __name__ == "__main__":
    sys.exit(main())
