"""LA 311 at scale against the physical limit, measured in one run on the same rows.

N rows (default 1,000,000; `make bench N=5000000`) of one sandbox year are served over loopback:

- download: every CSV page of the year fetched as the source fetches them (into one local CSV);
- the limit: Postgres `COPY` of that CSV into a plain table; DuckDB `read_parquet` CTAS of the
  same rows written as Parquet;
- our full load (`run_source("socrata")`, in a child process so its peak RSS is its own):
  end to end, and its load stage (end to end minus the download measured above);
- the chain after the load, on the loaded rows: the dbt_oltp run of the 311 models
  (`+service_request_summary`), the lake export of the five 311 tables, and the dbt_dwh run of
  `fct_service_request` and the three 311 marts (with what they need upstream) into the DuckDB
  warehouse; dbt's figures are its model time (`run_results.json`, without dbt's start-up) and
  the wall time of `dbt run`; the export's and the warehouse's rows/s are compared with DuckDB's
  `read_parquet` CTAS;
- an update run with 1% of the requests changed (same seed, `socrata_changed_fraction`);
- then, in a separate home, the demo-sized Yelp chain (the steps of `bench.builds.full_build`:
  7 days of the default sandbox extracted, `dbt build` of dbt_oltp, the lake export, `dbt build`
  of dbt_dwh).

Targets: load stage >= 0.5 x COPY rows/s, end to end >= 0.25 x, update <= 10% of the full
load's wall time at 1M (<= 5% at 5M), peak RSS <= 1.5 GiB at 5M. The chain's figures are
reported without targets. Prints a table and writes `bench/results/latest.json`; exits 1 when a
target is missed.
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
TARGETS = {"load_vs_copy": 0.5, "e2e_vs_copy": 0.25, "peak_rss_gib": 1.5}
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


def _child_load(home: str, url: str, options: dict[str, Any], out: Any) -> None:
    """One load in its own process: (wall seconds, load metadata)."""
    from extract.pipelines import run_source

    started = time.perf_counter()
    run = run_source("socrata", settings=_settings(Path(home), url), options=options, to_lake=False)
    out.send((time.perf_counter() - started, run.load, _peak_rss_gib()))


def _peak_rss_gib() -> float:
    """This process's peak RSS. Not getrusage's ru_maxrss: Linux carries it over exec, so a
    spawned child would report the parent's RSS at fork time; VmHWM belongs to this image."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # not Linux


def _in_child(home: Path, url: str, options: dict[str, Any]) -> tuple[float, dict[str, Any], float]:
    """(seconds, load, peak RSS GiB of the child)."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_child_load, args=(str(home), url, options, child))
    proc.start()
    child.close()  # so that a child that dies makes recv() raise instead of waiting forever
    try:
        seconds, load, peak = parent.recv()
    except EOFError:
        proc.join()
        raise RuntimeError(f"the load failed in its process (exit {proc.exitcode})") from None
    proc.join()
    return seconds, load, peak


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
    from extract.sources.rest import OffsetUntilShortPage, paginate_raw, rest_client
    from extract.sources.socrata.datasets import LA311_DATASETS
    from extract.sources.socrata.source import PAGE_ROWS

    client = rest_client(load_settings({"PATH": os.environ["PATH"]}), url)
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
    from extract.sources.socrata.source import COLUMNS

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


def _dbt(project: str, select: str, settings: Any, work: Path) -> Any:
    """`dbt run --select <select>` in `project`; exits with the tail of dbt's output on failure."""
    from extract.runtime.dbt_invoke import run_dbt

    run = run_dbt(project, ["run", "--select", select], settings, target_path=work / project)
    if run.returncode != 0:
        sys.exit(f"{project}: dbt run --select {select} failed:\n{run.stdout[-4000:]}")
    return run


def _chain(settings: Any, work: Path, n: int, read_parquet_rps: float) -> dict[str, float]:
    """The 311 rows loaded by the full load through dbt_oltp, the lake export and dbt_dwh.
    run_dbt gives dbt the warehouse's variables (extract.runtime.dbt_invoke.dbt_environment)."""
    import duckdb

    from extract.lake.export import export_oltp

    oltp = _dbt("dbt_oltp", "+service_request_summary", settings, work)
    export = export_oltp(settings, tables=LA311_TABLES)
    exported = export.rows["service_request"]
    assert exported == n, f"the lake export wrote {exported} of {n} requests"
    dwh = _dbt("dbt_dwh", DWH_SELECT, settings, work)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        row = con.execute("select count(*) from dwh.fct_service_request").fetchone()
    finally:
        con.close()
    built = row[0] if row else 0
    assert built == n, f"dwh.fct_service_request has {built} of {n} requests"
    oltp_model_s = max(oltp.node_seconds("model"), 1e-9)
    lake_rps = exported / max(export.seconds, 1e-9)
    dwh_model_s = max(dwh.node_seconds("model"), 1e-9)
    return {
        "oltp_build_s": oltp.seconds,
        "oltp_model_s": oltp_model_s,
        "oltp_rows_per_s": n / oltp_model_s,
        "lake_export_s": export.seconds,
        "lake_export_rows": export.total_rows,
        "lake_rows_per_s": lake_rps,
        "lake_vs_read_parquet": lake_rps / read_parquet_rps,
        "warehouse_build_s": dwh.seconds,
        "warehouse_model_s": dwh_model_s,
        "warehouse_rows_per_s": n / dwh_model_s,
        "warehouse_vs_read_parquet": (n / dwh_model_s) / read_parquet_rps,
    }


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
    args = parser.parse_args()
    n = args.rows
    # The run writes several GiB (CSV, Parquet, Postgres data at 5M rows): always removed.
    work = Path(tempfile.mkdtemp(prefix="gourmand-bench-socrata-"))
    try:
        return _run(n, work)
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


def _run(n: int, work: Path) -> int:
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
            full_s, full, peak = _in_child(home, base.url, {"mode": "full", "years": [YEAR]})
            figures.update(full_s=full_s, full_inserted=full["inserted"], peak_rss_gib=peak)
        finally:
            base.stop()
        figures.update(_chain(settings, work, n, n / figures["read_parquet_s"]))
        # Three update runs, each changing the same 1% again a day later (a new sandbox with a
        # later changed_at): the median, since one sub-second run is at the mercy of the noise
        updates: list[tuple[float, dict[str, Any]]] = []
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
                seconds, update, _ = _in_child(home, changed.url, {"mode": "update"})
            finally:
                changed.stop()
            updates.append((seconds, update))
    finally:
        stop_embedded(settings)
    figures["update_runs_s"] = [round(s, 3) for s, _ in updates]
    update_s, update = sorted(updates, key=lambda u: u[0])[1]
    assert all(u["updated"] == update["updated"] > 0 for _, u in updates), updates
    figures.update(update_s=update_s, update_updated=update["updated"])
    figures["yelp_demo"] = _yelp_demo(work)

    copy_rps = n / figures["copy_s"]
    load_s = max(full_s - figures["download_s"], 1e-9)
    figures.update(
        copy_rows_per_s=copy_rps,
        read_parquet_rows_per_s=n / figures["read_parquet_s"],
        download_rows_per_s=n / figures["download_s"],
        load_rows_per_s=n / load_s,
        e2e_rows_per_s=n / full_s,
        load_vs_copy=(n / load_s) / copy_rps,
        e2e_vs_copy=(n / full_s) / copy_rps,
        update_vs_full=update_s / full_s,
    )
    update_target = 0.05 if n >= 5_000_000 else 0.10
    checks = {
        "load_vs_copy": figures["load_vs_copy"] >= TARGETS["load_vs_copy"],
        "e2e_vs_copy": figures["e2e_vs_copy"] >= TARGETS["e2e_vs_copy"],
        "update_vs_full": figures["update_vs_full"] <= update_target,
        "peak_rss_gib": n < 5_000_000 or figures["peak_rss_gib"] <= TARGETS["peak_rss_gib"],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(figures, indent=2))
    (RESULTS / f"socrata-{n}.json").write_text(json.dumps(figures, indent=2))
    print(f"LA 311, {n:,} rows of one sandbox year (results in bench/results/latest.json)")
    rows = [
        ("sandbox generation", figures["generate_s"], None, ""),
        ("download (CSV pages over loopback)", figures["download_s"],
         figures["download_rows_per_s"], ""),
        ("limit: Postgres COPY of the CSV", figures["copy_s"], copy_rps, "1.00 (the limit)"),
        ("limit: DuckDB read_parquet CTAS", figures["read_parquet_s"],
         figures["read_parquet_rows_per_s"], ""),
        ("our full load, end to end", full_s, figures["e2e_rows_per_s"],
         f"{figures['e2e_vs_copy']:.2f} x COPY (target >= 0.25)"),
        ("our full load, load stage", load_s, figures["load_rows_per_s"],
         f"{figures['load_vs_copy']:.2f} x COPY (target >= 0.5)"),
        ("dbt_oltp build of the 311 models", figures["oltp_model_s"],
         figures["oltp_rows_per_s"], f"models; dbt run {figures['oltp_build_s']:.2f} s wall"),
        ("lake export of the 311 tables", figures["lake_export_s"], figures["lake_rows_per_s"],
         f"{figures['lake_vs_read_parquet']:.2f} x read_parquet"),
        ("dbt_dwh build of fct_service_request + 3 marts", figures["warehouse_model_s"],
         figures["warehouse_rows_per_s"],
         f"{figures['warehouse_vs_read_parquet']:.2f} x read_parquet; models; "
         f"dbt run {figures['warehouse_build_s']:.2f} s wall"),
        ("update run, 1% changed", update_s, None,
         f"{figures['update_vs_full']:.3f} x full (target <= {update_target}); median of "
         f"{', '.join(f'{s:.2f}' for s in figures['update_runs_s'])} s"),
    ]  # fmt: skip
    for name, seconds, rps, ratio in rows:
        rate = f"{rps:>12,.0f} rows/s" if rps else " " * 19
        print(f"  {name:<46} {seconds:8.2f} s {rate}  {ratio}")
    print(f"  peak RSS of the full load: {figures['peak_rss_gib']:.2f} GiB (target <= 1.5 at 5M)")
    y = figures["yelp_demo"]
    print(f"  demo-sized Yelp chain (7 days): extract {y['extract_s']:.2f} s, dbt_oltp "
          f"{y['oltp_build_s']:.2f} s, lake export {y['lake_export_s']:.2f} s, dbt_dwh "
          f"{y['warehouse_build_s']:.2f} s")  # fmt: skip
    missed = [name for name, ok in checks.items() if not ok]
    print("all targets met" if not missed else f"MISSED: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
