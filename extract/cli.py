"""`gourmand`: the command line of the project: helper processes (sandbox, postgres), loads
(extract, socrata, ingest), runs (demo, materialize, lake-export), reads (sql, quality-report),
backup and restore, the HR API (serve) and the Dagster UI (dev)."""

from __future__ import annotations

import csv
import functools
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from extract.settings import Settings, child_environment, get_settings

console = Console(stderr=True)


def _postgres_running(settings: Settings) -> bool:
    from extract.runtime.postgres import embedded_running

    return settings.embedded_postgres and embedded_running(settings)


@contextmanager
def leave_as_found(
    settings: Settings, say: Callable[[str], None], *, tell_postgres: bool = True
) -> Iterator[None]:
    """A command leaves the helper processes it may start on demand (the home's sandbox and
    embedded Postgres) as it found them.

    Its sources reach the sandbox through `sandbox_url` (extract/sources/endpoints.py), which
    starts it when needed, and `connection_info()` starts the embedded Postgres, so any command
    can leave one behind. The sandbox's users are counted per home (extract/sandbox/process.py):
    this stops a sandbox a killed command left, and at the end stops the sandbox if this was its
    last user (it restarts in a second), whichever command started it. An embedded Postgres this
    block started is left running, because the next `gourmand sql`, dbt or psql session needs it
    and a restart costs seconds, but it says so through `say`, with the command that stops it
    (unless not `tell_postgres`: `gourmand postgres` starts it on purpose)."""
    from extract.sandbox.process import release_sandbox, stop_unused_sandbox

    orphan = stop_unused_sandbox(settings)
    if orphan:
        say(f"stopped the sandbox (pid {orphan}) left running by a process that was killed")
    postgres_before = tell_postgres and _postgres_running(settings)
    try:
        yield
    finally:
        release_sandbox(settings)
        if tell_postgres and not postgres_before and _postgres_running(settings):
            say(
                f"the embedded Postgres of {settings.home} was started and is left running for "
                f"the next command; stop it with: {_gourmand()} postgres --stop"
            )


def _gourmand() -> str:
    """The command as the user typed it (`.venv/bin/gourmand` after `make`), so the line works
    when copied."""
    import shlex

    typed = sys.argv[0] if sys.argv else ""
    return shlex.quote(typed) if typed.endswith("gourmand") else "gourmand"


def runs_lock() -> AbstractContextManager[None]:
    """The home's `runs` lock, held by a command that runs steps of the chain (extraction,
    models, export, warehouse) once its inputs are checked: a second one waits, saying for
    whom, so overlapping runs end as if one had run after the other, and a run's checks count
    layers no other run is half-way through (extract/runtime/locks.py)."""
    from extract.runtime.locks import RUNS, home_lock

    say = lambda msg: console.print(f"[yellow]{msg}[/yellow]", soft_wrap=True)  # noqa: E731
    return home_lock(get_settings(), RUNS, say=say)


def one_run_at_a_time(command: Callable[..., Any]) -> Callable[..., Any]:
    """`runs_lock()` around a command whose inputs click has checked."""

    @functools.wraps(command)
    def held(*args: Any, **kwargs: Any) -> Any:
        with runs_lock():
            return command(*args, **kwargs)

    return held


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Gourmand: an open ELT warehouse for local-business and civic data."""
    from extract.runtime.collector import tune_collector

    tune_collector()  # the collector's thresholds for dbt's and Dagster's heaps (why: there)
    # `gourmand sandbox` starts and stops the sandbox as asked: it is left to do so
    if ctx.invoked_subcommand == "sandbox" or ctx.resilient_parsing:
        return
    from extract.sandbox.process import sandbox_url
    from extract.sources.endpoints import use_sandbox

    # in sandbox mode, sources that name no service reach the home's sandbox, started on demand
    use_sandbox(sandbox_url)
    # exits with the command (a SystemExit included): the sandbox is stopped if it was its last
    # user; not wrapped: the line ends in a command to copy
    say = lambda msg: console.print(f"[dim]{msg}[/dim]", soft_wrap=True)  # noqa: E731
    # `gourmand postgres` starts the embedded Postgres on purpose: no notice of it
    tell_postgres = ctx.invoked_subcommand != "postgres"
    ctx.with_resource(leave_as_found(get_settings(), say, tell_postgres=tell_postgres))


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--detach", is_flag=True, help="Start the home's sandbox in the background.")
@click.option("--stop", is_flag=True, help="Stop the home's background sandbox.")
@click.option("--status", is_flag=True, help="Print the home's sandbox address if it is up.")
@click.pass_context
def sandbox(ctx: click.Context, detach: bool, stop: bool, status: bool) -> None:
    """Serve the sandbox APIs on 127.0.0.1 (extra flags are the sandbox's knobs, see --help)."""
    from extract.sandbox import process

    settings = get_settings()
    if stop:
        click.echo("stopped" if process.stop_sandbox(settings) else "no sandbox was running")
        return
    if status:
        state = process.running_sandbox(settings)
        click.echo(state["url"] if state else "not running")
        sys.exit(0 if state else 1)
    if detach:
        if ctx.args:
            settings = settings.with_(sandbox_args=tuple(ctx.args))
        click.echo(process.start_sandbox(settings, keep=True)["url"])
        return
    from extract.sandbox.__main__ import main as sandbox_main

    sys.exit(sandbox_main(list(ctx.args)))


def _not_blank(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Refuse an option given empty or blank: a script's unset `$DAY` arrives as "", and read as
    "not given" it would run the default (the newest day, the default window, the watermark)."""
    if isinstance(value, str) and not value.strip():
        raise click.BadParameter(f"{value!r} is empty")
    return value


def _partition(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A partition key or range, refused when empty, blank or a range with an empty side."""
    from dagster_project.lib.materialize import SelectionError, check_partition

    try:
        check_partition(value)
    except SelectionError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _days(day: str | None, start: str | None, days: int | None) -> list[date]:
    from extract.runtime.inputs import InputError, parse_day

    settings = get_settings()
    try:
        if day:
            return [parse_day(day)]
        first = parse_day(start, "--start") if start else settings.start_date
    except InputError as exc:
        raise click.UsageError(str(exc)) from None
    chosen = [first + timedelta(days=i) for i in range(days or settings.demo_days)]
    if chosen[-1] > date.today():
        raise click.UsageError(f"--days {len(chosen)} from {first} reaches {chosen[-1]}, "
                               "in the future")  # fmt: skip
    return chosen


def _print_runs(runs: list[Any]) -> None:
    table = Table(title="What landed")
    for column in ("source", "batch", "table", "rows", "seconds", "rows/s"):
        table.add_column(
            column, justify="right" if column in ("rows", "seconds", "rows/s") else "left"
        )
    for run in runs:
        for t in run.tables:
            table.add_row(
                run.source,
                run.batch,
                f"{t.dataset}.{t.table}",
                f"{t.rows:,}",
                f"{t.seconds:.2f}",
                f"{t.rows_per_second:,.0f}",
            )
    Console().print(table)


@main.command()
@click.argument("sources", nargs=-1, type=click.Choice(["states", "census", "yelp", "all"]))
@click.option("--day", callback=_not_blank, help="One Yelp survey day (YYYY-MM-DD).")
@click.option(
    "--start",
    callback=_not_blank,
    help="First Yelp day of a window (default GOURMAND_START_DATE).",
)
@click.option(
    "--days", type=click.IntRange(min=1), help="Number of Yelp days (default GOURMAND_DEMO_DAYS)."
)
@click.option("--no-lake", is_flag=True, help="Load Postgres only.")
def extract(
    sources: tuple[str, ...], day: str | None, start: str | None, days: int | None, no_lake: bool
) -> None:
    """Load sources straight into Postgres and the lake (without Dagster)."""
    from extract.pipelines import run_days, run_source

    chosen = list(sources) if sources and "all" not in sources else ["states", "census", "yelp"]
    survey_days = _days(day, start, days) if "yelp" in chosen else []
    settings = get_settings()
    runs = []
    with runs_lock():
        for name in chosen:
            if name == "yelp":
                runs += run_days(
                    name,
                    survey_days,
                    settings=settings,
                    to_lake=not no_lake,
                    on_progress=lambda m: console.print(f"[dim]{m}[/dim]"),
                )
            else:
                runs.append(
                    run_source(
                        name,
                        settings=settings,
                        to_lake=not no_lake,
                        on_progress=lambda m: console.print(f"[dim]{m}[/dim]"),
                    )
                )
    _print_runs(runs)


@main.command()
@click.option("--mode", type=click.Choice(["full", "update"]), default="full", show_default=True)
@click.option(
    "--year",
    "years",
    type=int,
    multiple=True,
    help="Full mode: a year to load (repeatable; default GOURMAND_SOCRATA_YEARS).",
)
@click.option(
    "--since",
    callback=_not_blank,
    help="Update mode: load updateddate > this (default the watermark).",
)
@click.option(
    "--reset",
    is_flag=True,
    help="Full mode: reload the years, then delete every "
    "other request (the table is never empty on the way).",
)
@click.option("--no-lake", is_flag=True, help="Load Postgres only.")
def socrata(
    mode: str, years: tuple[int, ...], since: str | None, reset: bool, no_lake: bool
) -> None:
    """Load LA 311 service requests (Socrata) into raw_socrata, merging on srnumber."""
    from extract.pipelines import run_source
    from extract.runtime.inputs import InputError, parse_timestamp

    if since:
        try:
            parse_timestamp(since)
        except InputError as exc:
            raise click.UsageError(str(exc)) from None
    with runs_lock():
        run = run_source(
            "socrata",
            settings=get_settings(),
            to_lake=not no_lake,
            options={"mode": mode, "years": list(years), "since": since, "reset": reset},
            on_progress=lambda m: console.print(f"[dim]{m}[/dim]"),
        )
    _print_runs([run])
    load = run.load
    click.echo(
        f"{load['mode']} load: {load['inserted']:,} inserted, {load['updated']:,} updated, "
        f"{load['rejected']:,} rejected in {load['seconds']:.1f}s; watermark {load['watermark']}"
    )


@main.command()
@click.argument("table", type=click.Choice(["departments", "jobs", "employees"]))
@click.argument("file", type=click.Path(path_type=Path))
def ingest(table: str, file: Path) -> None:
    """Ingest a header-less HR CSV file into raw_hr (invalid rows go to raw_hr._rejects)."""
    from extract.sources.hr.ingest import IngestError, ingest_file

    try:
        result = ingest_file(get_settings(), table, file)
    except IngestError as exc:
        console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
    click.echo(
        f"{table}: received {result.received:,}, loaded {result.loaded:,} "
        f"({result.inserted:,} new, {result.updated:,} updated, {result.unchanged:,} unchanged), "
        f"rejected {result.rejected:,} in {result.seconds:.2f}s"
    )
    for line, reasons in result.rejects[:20]:
        console.print(f"[yellow]line {line}:[/yellow] {reasons}")
    if result.rejected > 20:
        console.print(
            f"... {result.rejected - 20:,} more in raw_hr._rejects (batch {result.batch})"
        )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def serve(host: str, port: int) -> None:
    """Serve the read API (/v1) and the HR ingest API (tokens: GOURMAND_READ_TOKENS, and
    GOURMAND_INGEST_TOKEN, else one made for this home; GOURMAND_API_ANONYMOUS_READ=true lets
    anyone read)."""
    import secrets as token_source

    import uvicorn

    from extract.serve.app import create_app
    from extract.serve.auth import Tokens

    settings = get_settings()
    token = settings.ingest_token
    if not token:
        # a token per home, readable by its owner only; the token itself is never printed
        path = settings.home / "ingest.token"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(token_source.token_urlsafe(24))
        token = path.read_text().strip()
        console.print(f"token: GOURMAND_INGEST_TOKEN is unset; using the one in {path}")
    grants: dict[str, set[str]] = {t: {"read"} for t in settings.read_tokens}
    grants[token] = {"ingest", "read"}
    tokens = Tokens(grants, anonymous={"read"} if settings.api_anonymous_read else ())
    app = create_app(settings, tokens)
    resources = len(app.state.read_api.catalog)
    console.print(
        f"Gourmand API on http://{host}:{port}: {resources} resources under /v1, HR ingest "
        f"under /ingest (OpenAPI docs at /docs)"
    )
    uvicorn.run(app, host=host, port=port, log_level="info")


@main.command("backup")
@click.argument("table")
def backup_table(table: str) -> None:
    """Back up a Postgres table (schema.table) to Avro under <lake>/backups/."""
    from extract.lake.backup import BackupError, backup

    try:
        result = backup(get_settings(), table)
    except BackupError as exc:
        console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
    click.echo(f"{result.table}: {result.rows:,} rows -> {result.url} in {result.seconds:.2f}s")


@main.command("restore")
@click.argument("table")
@click.option("--file", "file", help="A backup file (default: the table's latest backup).")
def restore_table(table: str, file: str | None) -> None:
    """Replace a table's rows with a backup's, in one transaction."""
    from extract.lake.backup import BackupError, restore

    try:
        result = restore(get_settings(), table, file)
    except BackupError as exc:
        console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
    click.echo(f"{result.table}: {result.rows:,} rows restored from {result.url} in "
               f"{result.seconds:.2f}s")  # fmt: skip


@main.command()
@click.option(
    "--select",
    "selection",
    callback=_not_blank,
    help="A Dagster asset selection (group:hr, key:oltp/hr_employee+, ...). Default: the "
    "daily graph (all but the 311 group), for the newest survey day unless --partition.",
)
@click.option(
    "--partition",
    callback=_partition,
    help="For partitioned assets: a key (2024-01-03, 2024) or FIRST...LAST.",
)
@click.option(
    "--from-failure",
    "failed_run",
    metavar="RUN_ID",
    callback=_not_blank,
    help="Re-execute that failed run from its failed steps (same assets and partitions).",
)
@one_run_at_a_time
def materialize(selection: str | None, partition: str | None, failed_run: str | None) -> None:
    """Materialize assets of the graph (with their checks) in one run, on these settings."""
    from dagster_project.lib.materialize import DAILY_GRAPH, SelectionError, resume, summarize
    from dagster_project.lib.materialize import materialize as run_selection

    def say(msg: str) -> None:
        console.print(f"[yellow]{msg}[/yellow]")

    try:
        if failed_run:
            if selection is not None or partition is not None:
                raise SelectionError("--from-failure re-executes a run as it was: no --select "
                                     "or --partition")  # fmt: skip
            summary = resume(get_settings(), failed_run, say=say)
        else:
            summary = summarize(
                run_selection(
                    get_settings(),
                    selection or DAILY_GRAPH,
                    partition,
                    newest_if_unset=selection is None,
                    say=say,
                )  # fmt: skip
            )
    except SelectionError as exc:
        console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
    click.echo(
        f"run {summary.run_id}: {'success' if summary.success else 'FAILED'}; "
        f"{len(summary.materialized)} assets materialized, {summary.checks} checks "
        f"({len(summary.failed_checks)} failed)"
    )
    for key in summary.materialized:
        click.echo(f"  {key}")
    for check in summary.failed_checks:
        click.echo(f"  check failed: {check}")
    if not summary.success:
        click.echo(f"  re-execute its failed steps: gourmand materialize --from-failure "
                   f"{summary.run_id}")  # fmt: skip
    sys.exit(0 if summary.success else 1)


@main.command("lake-export")
@click.option("--table", "tables", multiple=True, help="Only this OLTP table (repeatable).")
@click.option(
    "--full-refresh", is_flag=True, help="Delete the tables' lake files and export them whole."
)
@one_run_at_a_time
def lake_export(tables: tuple[str, ...], full_refresh: bool) -> None:
    """Export what changed in schema oltp to <lake>/oltp/<table>/ (without Dagster)."""
    from extract.lake.export import export_oltp

    result = export_oltp(get_settings(), tables=list(tables) or None, full_refresh=full_refresh)
    out = Table(title=f"Lake export ({result.seconds:.1f}s, load {result.load_id or '-'})")
    out.add_column("table")
    out.add_column("rows written", justify="right")
    for table, rows in sorted(result.rows.items()):
        out.add_row(table, f"{rows:,}")
    console.print(out)


@main.command()
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Sandbox days to survey (default GOURMAND_DEMO_DAYS=7).",
)
@one_run_at_a_time
def demo(days: int | None) -> None:
    """Start the embedded stack and run the whole chain through Dagster: extraction, dbt_oltp,
    the lake export and dbt_dwh."""
    from extract.demo import run_demo

    sys.exit(run_demo(days))


@main.command()
@click.option(
    "--target", type=click.Choice(["oltp", "warehouse"]), default="oltp", show_default=True
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.option(
    "--build",
    help="A kept warehouse build to read by its id (default: the published one; see "
    "`gourmand builds`).",
)
@click.argument("query")
def sql(target: str, fmt: str, build: str | None, query: str) -> None:
    """Run one read-only query and print the result."""
    from extract.runtime.query import QueryError, reading

    if build and target != "warehouse":
        raise click.UsageError("--build reads a warehouse build: use it with --target warehouse")
    try:
        with reading(get_settings(), target, build=build) as reader:
            columns, rows = reader.run(query)
    except QueryError as exc:
        console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
    if reader.build:
        # on stderr: the answer on stdout stays the table, CSV or JSON asked for
        click.echo(f"warehouse build {reader.build}", err=True)
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt == "json":
        click.echo(
            json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str, indent=2)
        )
    else:
        table = Table()
        for c in columns:
            table.add_column(c)
        for r in rows:
            table.add_row(*("" if v is None else str(v) for v in r))
        Console().print(table)


@main.command("builds")
def builds_command() -> None:
    """List the kept builds of the DuckDB warehouse, newest first, and which one is published
    (readers read it; `gourmand sql --build ID` reads another)."""
    from extract.runtime.publication import builds

    table = Table()
    for column in ("build", "written", "published"):
        table.add_column(column)
    for build in builds(get_settings()):
        table.add_row(build["id"], build["at"], "yes" if build["published"] else "")
    Console().print(table)


@main.command("quality-report")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write it.")
def quality_report(out: Path | None) -> None:
    """Write the HTML quality report (latest result of every check) and print its path."""
    from extract.reports.quality import build_report

    click.echo(build_report(get_settings(), out))


@main.command()
@click.option("--stop", is_flag=True, help="Stop the home's embedded server.")
@click.option(
    "--env",
    "as_env",
    is_flag=True,
    help="Print export lines of the GOURMAND_PG_* variables dbt's profiles read, for "
    'eval "$(gourmand postgres --env)".',
)
@click.option(
    "--reader-sql",
    is_flag=True,
    help="Print the SQL that creates the analysts' read-only role on a production server "
    "(then set GOURMAND_READER_DSN).",
)
def postgres(stop: bool, as_env: bool, reader_sql: bool) -> None:
    """Start the home's embedded Postgres if needed and print how to reach it."""
    import shlex

    from extract.runtime.postgres import connection_info, postgres_environment, stop_embedded

    settings = get_settings()
    if reader_sql:
        from extract.runtime.reader import setup_sql

        database = "gourmand"
        if settings.oltp_dsn:
            from urllib.parse import unquote, urlsplit

            database = unquote(urlsplit(settings.oltp_dsn).path.lstrip("/")) or "postgres"
        click.echo(setup_sql(database), nl=False)
        return
    if stop:
        if settings.embedded_postgres:
            click.echo("stopped" if stop_embedded(settings) else "was not running")
        else:
            click.echo("GOURMAND_OLTP_DSN points elsewhere; nothing to stop")
        return
    if as_env:
        # Asked for explicitly and meant for eval: the one place the password is printed.
        for name, value in postgres_environment(settings).items():
            click.echo(f"export {name}={shlex.quote(value)}")
        return
    info = connection_info(settings)
    # The password is not printed: the embedded server's is in a libpq password file of the home
    # (mode 0600), other servers have their own
    if settings.embedded_postgres:
        from extract.runtime.postgres import pgpass_file

        passfile = shlex.quote(str(pgpass_file(settings)))
        click.echo(
            f"PGPASSFILE={passfile} psql -h {info.host} -p {info.port} -U {info.user} "
            f"{info.database}"
        )
    else:
        click.echo(f"psql -h {info.host} -p {info.port} -U {info.user} {info.database}")
    click.echo(f"export GOURMAND_PG_HOST={info.host} GOURMAND_PG_PORT={info.port}")


@main.command()
@click.option("--port", default=3000, show_default=True)
def dev(port: int) -> None:
    """Open the Dagster UI on 127.0.0.1 (the sandbox is started for it, and stopped after)."""
    from extract.sandbox import process

    settings = get_settings()
    if settings.sources_mode == "sandbox" and not settings.yelp_base_url:
        console.print(f"sandbox: {process.start_sandbox(settings)['url']}")
    _run_dagster_dev(settings, port)


def _run_dagster_dev(settings: Any, port: int) -> None:
    from dagster_project.lib.home import ensure_dagster_home

    ensure_dagster_home(settings)
    env = child_environment(settings)
    cmd = [
        os.path.join(os.path.dirname(sys.executable), "dagster"),
        "dev",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-w",
        str(settings.project_root / "workspace.yaml"),
    ]
    # Started from make or a non-interactive shell, SIGINT arrives ignored and Python keeps it
    # that way: restore it here and in the child so Ctrl-C (or kill -INT) stops everything.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=settings.project_root,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        # dagster dev stops its webserver, daemon and code servers on SIGINT
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    sys.exit(0 if code in (0, -signal.SIGINT) else code)


@main.group()
def report() -> None:
    """Static reports built from the warehouse's marts."""


@report.command("hr")
@click.option("--year", type=int, required=True, help="The year to report on.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into (default <home>/reports/hr).",
)
def report_hr(year: int, out: Path | None) -> None:
    """Write the HR hiring report of a year (index.html and two CSV files); print its path."""
    from extract.reports.hr import build_hr_report
    from extract.runtime.query import QueryError

    settings = get_settings()
    try:
        index = build_hr_report(settings, year, out or settings.home / "reports" / "hr")
    except QueryError as exc:
        from rich.markup import escape

        # soft_wrap: DuckDB's message points a caret at the SQL, which re-wrapping would break
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        console.print(
            "the report reads marts.hr_hires_by_quarter and marts.hr_departments_above_mean: "
            "build the warehouse (dbt_dwh) first",
            soft_wrap=True,
        )
        sys.exit(2)
    click.echo(index)


@report.command("dashboards")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into (default <home>/reports/site).",
)
def report_dashboards(out: Path | None) -> None:
    """Write the dashboards site (the Dagster asset serving/dashboards does it after every
    build; this writes it now, without the pipeline-runs figures); print its index page."""
    from extract.reports.dashboards import build_site

    settings = get_settings()
    click.echo(build_site(settings, out or settings.home / "reports" / "site"))


@main.command("extracts")
def extracts_command() -> None:
    """Write the data extracts (every mart and dimension as Parquet and CSV under
    <lake>/extracts/; the Dagster asset serving/extracts does it after every build)."""
    from extract.reports.extracts import write_extracts
    from extract.warehouse.builds import last_build

    settings = get_settings()
    # from the published build, which no run writes: a build in progress goes on meanwhile
    written = write_extracts(settings, (last_build(settings) or {}).get("at"))
    for extract in written:
        console.print(f"{extract.name}: {extract.rows:,} rows")


if __name__ == "__main__":
    main()
