"""Build cost of the chain after extraction (dbt_oltp, the lake export, dbt_dwh): on the demo
data, on a 10x larger sandbox, and for new days at day 2 vs day 30 of history (`--history-only`
runs just that); plus
the warehouse staging's read speed against a bare DuckDB `read_parquet` of the same files.

Run with `make bench` (or `python -m bench.builds`). Everything runs in one process against
private homes (each its own embedded Postgres, lake and DuckDB file, and an in-process sandbox),
so the figures are compared within one run on a shared, noisy machine. Targets: an incremental
day costs what the day's data costs, not what the history costs (day 30 / day 2 <= 1.5 for the
dbt model time of both projects), and the staging reads the lake at >= half the bare speed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from extract.lake.export import export_oltp
from extract.pipelines import run_source
from extract.runtime.dbt_invoke import DbtRun, run_dbt
from extract.runtime.postgres import connect, stop_embedded
from extract.sandbox import SandboxConfig, SandboxServer
from extract.settings import Settings, load_settings

RESULTS = Path(__file__).with_name("results") / "builds.json"
TARGET_RATIO = 1.5
TARGET_READ_RATIO = 0.5
LARGER_DAYS = 3


def settings_for(home: Path, server: SandboxServer) -> Settings:
    return load_settings(
        {
            "GOURMAND_HOME": str(home),
            "GOURMAND_YELP_BASE_URL": f"{server.url}/v3",
            "GOURMAND_CENSUS_BASE_URL": f"{server.url}/data",
            "GOURMAND_STATES_URL": f"{server.url}/abbreviations.htm",
            "PATH": os.environ.get("PATH", ""),
        }
    )


def extract_days(settings: Settings, config: SandboxConfig, first: int, last: int) -> float:
    """Extract survey days first..last (1-based) into Postgres; returns seconds."""
    started = time.perf_counter()
    for n in range(first, last + 1):
        run_source("yelp", day=config.start_date + timedelta(days=n - 1), settings=settings,
                   to_lake=False)  # fmt: skip
    return time.perf_counter() - started


def dbt(settings: Settings, work: Path, *args: str, project: str = "dbt_oltp") -> DbtRun:
    run = run_dbt(project, list(args), settings, target_path=work / project)
    if run.returncode != 0:
        sys.exit(f"dbt {' '.join(args)} failed:\n{run.stdout[-4000:]}")
    return run


def count(settings: Settings, table: str) -> int:
    conn = connect(settings, read_only=True)
    with conn.cursor() as cur:
        cur.execute(f"select count(*) from {table}")
        (n,) = cur.fetchone()
    conn.close()
    return int(n)


def full_build(label: str, config: SandboxConfig, days: int, root: Path) -> dict[str, Any]:
    """Extract `days` days, then one `dbt build` (models + tests) from an empty schema."""
    server = SandboxServer(config).start()
    settings = settings_for(root / label, server)
    try:
        run_source("states", settings=settings, to_lake=False)
        run_source("census", settings=settings, to_lake=False)
        extract_seconds = extract_days(settings, config, 1, days)
        build = dbt(settings, root / label, "build")
        export = export_oltp(settings)
        dwh = dbt(settings, root / label, "build", project="dbt_dwh")
        read = staging_read_speed(settings, root / label)
        raw = count(settings, "raw_yelp.businesses")
        result = {
            "businesses_per_day": config.counties * config.businesses_per_county,
            "days": days,
            "raw_business_rows": raw,
            "holding_rows": count(settings, "oltp.business_holding"),
            "review_rows": count(settings, "oltp.review"),
            "extract_seconds": round(extract_seconds, 2),
            "build_seconds": round(build.seconds, 2),
            "model_seconds": round(build.node_seconds("model"), 2),
            "test_seconds": round(build.node_seconds("test"), 2),
            "export_rows": export.total_rows,
            "export_seconds": round(export.seconds, 2),
            "dwh_build_seconds": round(dwh.seconds, 2),
            "dwh_model_seconds": round(dwh.node_seconds("model"), 2),
            "staging_read": read,
        }
    finally:
        server.stop()
        stop_embedded(settings)
    print(f"{label}: {result}")
    return result


def incremental_days(
    settings: Settings, config: SandboxConfig, work: Path, first: int, repeats: int
) -> dict[str, float]:
    """`repeats` normal days through the chain, one after the other from day `first`: each a new
    survey day extracted, then `dbt build` of dbt_oltp, the lake export and `dbt build` of
    dbt_dwh, as the daily run does. Medians over the days."""
    builds, exports, dwh_runs, extracts = [], [], [], []
    for day in range(first, first + repeats):
        extracts.append(extract_days(settings, config, day, day))
        builds.append(dbt(settings, work, "build", "--exclude-resource-type", "unit_test"))
        exports.append(export_oltp(settings))
        dwh_runs.append(dbt(settings, work, "build", project="dbt_dwh"))
    return {
        "extract_seconds": statistics.median(extracts),
        "model_seconds": statistics.median(b.node_seconds("model") for b in builds),
        "build_seconds": statistics.median(b.seconds for b in builds),
        "export_seconds": statistics.median(e.seconds for e in exports),
        "export_rows": statistics.median(e.total_rows for e in exports),
        "dwh_model_seconds": statistics.median(r.node_seconds("model") for r in dwh_runs),
        "dwh_build_seconds": statistics.median(r.seconds for r in dwh_runs),
    }


def staging_read_speed(settings: Settings, work: Path, repeats: int = 5) -> dict[str, float]:
    """Rows/s of the deduplicating staging views vs a bare `read_parquet` CTAS of the same lake
    files, over every lake table, in one DuckDB session (medians of `repeats`)."""
    import duckdb

    from extract.warehouse.load import lake_tables

    exported = set(lake_tables(settings))
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    tables = [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'dwh_staging'"
    ).fetchall()]  # fmt: skip
    # tables the lake holds no file of (the 311 ones without a 311 load): nothing to read
    tables = [v for v in tables if v.removeprefix("stg_lake__") in exported]
    lake = settings.lake_url.rstrip("/")

    def timed(select: str) -> float:
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            con.execute(f"create or replace temp table bench_copy as {select}")
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    bare = staged = 0.0
    rows = 0
    for view in tables:
        table = view.removeprefix("stg_lake__")
        # read as dbt_dwh's lake source reads them (union_by_name: files of one table may differ
        # in columns as the OLTP model evolves), so the ratio is what the staging adds: the
        # dedupe to the latest version per key
        bare += timed(
            f"select * from read_parquet('{lake}/oltp/{table}/*.parquet', union_by_name = true)"
        )
        staged += timed(f"select * from dwh_staging.{view}")
        rows += con.execute("select count(*) from bench_copy").fetchall()[0][0]
    con.close()
    return {
        "rows": rows,
        "bare_seconds": round(bare, 4),
        "staging_seconds": round(staged, 4),
        "speed_ratio": round(bare / staged, 2),
    }


def history(config: SandboxConfig, root: Path, repeats: int) -> dict[str, Any]:
    """New days at day 2 and at day 30 of one growing history (`repeats` days each, from day 2
    and from day 30), each folded incrementally after the rest."""
    server = SandboxServer(config).start()
    settings = settings_for(root / "history", server)
    work = root / "history"
    try:
        run_source("states", settings=settings, to_lake=False)
        run_source("census", settings=settings, to_lake=False)
        extract_days(settings, config, 1, 1)
        dbt(settings, work, "build")
        export_oltp(settings)
        dbt(settings, work, "build", project="dbt_dwh")
        day2 = incremental_days(settings, config, work, 2, repeats)
        # the days up to 29 folded at once: the history's volume is what day 30 must not pay for
        extract_days(settings, config, 2 + repeats, 29)
        dbt(settings, work, "run")
        export_oltp(settings)
        dbt(settings, work, "build", project="dbt_dwh")
        day30 = incremental_days(settings, config, work, 30, repeats)
        holdings = count(settings, "oltp.business_holding")
    finally:
        server.stop()
        stop_embedded(settings)
    ratios = {k: round(day30[k] / day2[k], 2) for k in day2 if day2[k]}
    return {
        "businesses_per_day": config.counties * config.businesses_per_county,
        "holding_rows_at_the_end": holdings,
        "day_2": {k: round(v, 3) for k, v in day2.items()},
        "day_30": {k: round(v, 3) for k, v in day30.items()},
        "ratio_day30_over_day2": ratios,
        "target": TARGET_RATIO,
        # every layer: extraction, dbt_oltp's models, the export, dbt_dwh's models
        "within_target": all(
            ratios[layer] <= TARGET_RATIO
            for layer in ("extract_seconds", "model_seconds", "export_seconds", "dwh_model_seconds")
        ),
    }


def print_history(h: dict[str, Any]) -> None:
    r = h["ratio_day30_over_day2"]
    print(
        f"incremental day ({h['businesses_per_day']:,} businesses a day), day 30 / day 2: "
        f"extraction {r['extract_seconds']}x; dbt_oltp models {r['model_seconds']}x, "
        f"dbt build {r['build_seconds']}x; lake export {r['export_seconds']}x; "
        f"dbt_dwh models {r['dwh_model_seconds']}x, build {r['dwh_build_seconds']}x "
        f"(target <= {TARGET_RATIO})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    # 5 counties x 600: 10x the demo's 300 businesses a day
    parser.add_argument("--history-businesses-per-county", type=int, default=600)
    parser.add_argument(
        "--history-only", action="store_true", help="only the day 30 / day 2 comparison"
    )
    args = parser.parse_args()

    demo = SandboxConfig()  # the demo's size: 5 counties x 60 businesses, 7 days
    # 10x the businesses a day, over 3 days (4.3x the demo's rows): extraction (a review
    # request per business) is most of this scenario's time and is not what it measures
    larger = SandboxConfig(counties=10, businesses_per_county=300)
    history_config = SandboxConfig(
        counties=5, businesses_per_county=args.history_businesses_per_county
    )
    with tempfile.TemporaryDirectory(prefix="gourmand-bench-") as tmp:
        root = Path(tmp)
        if args.history_only:
            h = history(history_config, root, args.repeats)
            # keep the last full run's other figures in the results file
            kept = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
            RESULTS.parent.mkdir(exist_ok=True)
            RESULTS.write_text(json.dumps({**kept, "history": h}, indent=2) + "\n")
            print(json.dumps(h, indent=2))
            print_history(h)
            return 0 if h["within_target"] else 1
        out = {
            "demo": full_build("demo", demo, 7, root),
            "larger_10x": full_build("larger_10x", larger, LARGER_DAYS, root),
            "history": history(history_config, root, args.repeats),
        }
    out["build_ratio_10x_over_demo"] = round(
        out["larger_10x"]["build_seconds"] / out["demo"]["build_seconds"], 2
    )
    out["model_ratio_10x_over_demo"] = round(
        out["larger_10x"]["model_seconds"] / out["demo"]["model_seconds"], 2
    )
    out["holding_ratio_10x_over_demo"] = round(
        out["larger_10x"]["holding_rows"] / out["demo"]["holding_rows"], 2
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    h = out["history"]
    print(json.dumps(out, indent=2))
    print_history(h)
    for label in ("demo", "larger_10x"):
        read = out[label]["staging_read"]
        print(
            f"{label}: staging reads the lake at {read['speed_ratio']}x the speed of a bare "
            f"read_parquet CTAS ({read['rows']:,} rows; target >= {TARGET_READ_RATIO})"
        )
    print(f"full dbt_oltp build, 10x businesses a day ({out['holding_ratio_10x_over_demo']}x the "
          f"demo's holdings) / demo: {out['build_ratio_10x_over_demo']}x wall, "
          f"{out['model_ratio_10x_over_demo']}x models")  # fmt: skip
    reads_ok = all(
        out[label]["staging_read"]["speed_ratio"] >= TARGET_READ_RATIO
        for label in ("demo", "larger_10x")
    )
    return 0 if h["within_target"] and reads_ok else 1


if __name__ == "__main__":
    sys.exit(main())
