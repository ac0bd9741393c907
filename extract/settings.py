"""The one place that reads the environment.

Every other module asks `get_settings()`; nothing else touches `os.environ`. The defaults are the
embedded stack (pgserver Postgres, a lake folder, a DuckDB file and the local sandbox), all under
one home folder so that deleting it starts over and two homes never share state.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

SourcesMode = Literal["sandbox", "live"]
WarehouseKind = Literal["duckdb", "postgres", "bigquery"]

# The sandbox's bearer token is not a secret: the sandbox accepts only this one and binds loopback.
SANDBOX_TOKEN = "sandbox-token"


def _find_project_root() -> Path:
    """The checkout that holds pyproject.toml; the home folder defaults to `<root>/.gourmand`."""
    here = Path(__file__).resolve().parent
    for candidate in (here, *here.parents):
        if (candidate / "pyproject.toml").exists() and (candidate / "extract").is_dir():
            return candidate
    return Path.cwd()


def _secrets_toml(root: Path) -> dict[str, object]:
    """`.dlt/secrets.toml` in the project root, the documented second place for secrets."""
    path = root / ".dlt" / "secrets.toml"
    if not path.exists():
        return {}
    import tomllib

    with path.open("rb") as fh:
        return tomllib.load(fh)


def _lookup(tree: dict[str, object], dotted: str) -> str | None:
    node: object = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return None if node is None else str(node)


@dataclass(frozen=True)
class Settings:
    """Resolved configuration of one Gourmand home."""

    project_root: Path
    home: Path
    # None: the embedded pgserver under home/postgres; not in repr (a DSN can hold a password)
    oltp_dsn: str | None = field(repr=False)
    lake_url: str
    warehouse: WarehouseKind
    warehouse_path: Path
    dagster_home: Path
    sources_mode: SourcesMode
    yelp_base_url: str | None  # None in sandbox mode: resolved from the running sandbox
    yelp_api_key: str = field(repr=False, default="")
    census_base_url: str | None = None
    census_api_key: str = field(repr=False, default="")
    states_url: str | None = None
    yelp_locations: tuple[str, ...] = ()
    yelp_max_locations: int = 0  # 0 = no cap
    # requests in flight at once for the per-business endpoints (reviews). One by default: the
    # API limits queries per second, and parallel requests that are refused retry after the same
    # Retry-After, together, and can be refused again until their attempts run out (the
    # sandbox's every-Nth rate limit showed it). More saves ~0.4 s per day against the sandbox.
    yelp_concurrency: int = 1
    start_date: date = date(2024, 1, 1)
    demo_days: int = 7
    http_timeout: float = 30.0
    # a person's query through the read-only door is stopped after this many seconds, whatever
    # it SETs (extract/runtime/query.py)
    read_timeout: float = 300.0
    http_max_attempts: int = 5
    http_backoff: float = 1.0
    http_max_delay: float = 60.0
    # an extraction step that failed after its HTTP retries is run again this many times, the
    # first after step_retry_delay seconds, then twice as long each time (an outage passes)
    step_retries: int = 3
    step_retry_delay: float = 30.0
    lake_endpoint_url: str | None = None
    lake_key_id: str = field(repr=False, default="")
    lake_secret: str = field(repr=False, default="")
    lake_region: str = "us-east-1"
    sandbox_args: tuple[str, ...] = ()
    alert_webhook: str = field(repr=False, default="")  # a secret: the URL is the credential
    socrata_base_url: str | None = None  # None in sandbox mode: the running sandbox
    socrata_app_token: str = field(repr=False, default="")
    socrata_datasets: tuple[tuple[int, str], ...] = ()  # (year, 4x4 id); () = LA 311's own
    socrata_years: tuple[int, ...] = (2023, 2024)  # full-mode years by default
    hr_drop_dir: Path | None = None  # None: <home>/drops/hr
    ingest_token: str = field(repr=False, default="")  # `gourmand serve`'s bearer token
    # the read API's tokens (scope read; the ingest token may read too), and whether anyone may
    # read without one (open data)
    read_tokens: tuple[str, ...] = field(repr=False, default=())
    api_anonymous_read: bool = False
    # the analysts' read-only role on a production server (extract/runtime/reader.py)
    reader_dsn: str | None = field(repr=False, default=None)
    # GOURMAND_WAREHOUSE=bigquery: the project (datasets lake, dwh, dwh_staging, marts), where
    # its datasets live, and how to authenticate: a service-account key file, else Google's
    # application default credentials; an endpoint (a local BigQuery API such as bqemulator)
    # is reached without credentials
    bq_project: str = "gourmand"
    bq_location: str = "US"
    bq_keyfile: str = field(repr=False, default="")
    bq_endpoint: str | None = None
    # the most a query a person runs (`gourmand sql --target warehouse`) may scan; 0 = no cap
    bq_max_bytes_billed: int = 10 * 1024**3
    # how a Dagster run executes its steps: in_process (one process, the laptop default: no
    # ~4 s start per step) or multiprocess (a deployment: independent steps in parallel, up to
    # dagster_max_processes; the DuckDB warehouse's steps still take its pool's one slot)
    dagster_executor: Literal["in_process", "multiprocess"] = "in_process"
    dagster_max_processes: int = 4
    # what the DuckDB warehouse's build may hold in memory before it spills to disk (DuckDB's
    # own default, 80% of the machine, let a 5M-request fact build reach 5 GiB)
    duckdb_memory_limit: str = "1GB"

    @property
    def postgres_dir(self) -> Path:
        return self.home / "postgres"

    @property
    def dlt_dir(self) -> Path:
        """dlt's pipeline working folders (state, pending packages) per home."""
        return self.home / "dlt"

    @property
    def sandbox_state_file(self) -> Path:
        return self.home / "sandbox.json"

    @property
    def hr_drops(self) -> Path:
        """The folder the HR system drops its CSV files into (the sensor watches it)."""
        return self.hr_drop_dir or self.home / "drops" / "hr"

    @property
    def embedded_postgres(self) -> bool:
        return self.oltp_dsn is None

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests, and the CLI's flags)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _env_int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def _choice(env: dict[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed` (case and `-`/`_` as the user likes), else a clear error."""
    value = env.get(name, default).lower().replace("-", "_")
    if value not in allowed:
        raise ValueError(f"{name} must be {' or '.join(allowed)}, got {value!r}")
    return value


def _start_date(env: dict[str, str]) -> date:
    start = env.get("GOURMAND_START_DATE", "2024-01-01")
    try:
        return date.fromisoformat(start)
    except ValueError as exc:
        raise ValueError(f"GOURMAND_START_DATE must be YYYY-MM-DD, got {start!r}") from exc


def _sandbox_args(env: dict[str, str]) -> tuple[str, ...]:
    """GOURMAND_SANDBOX_COUNTIES=8 -> --counties 8 for the sandbox that settings start."""
    args: list[str] = []
    for name, value in sorted(env.items()):
        if name.startswith("GOURMAND_SANDBOX_") and value != "":
            args += ["--" + name.removeprefix("GOURMAND_SANDBOX_").lower().replace("_", "-"), value]
    return tuple(args)


def _live_or_sandbox(env: dict[str, str], name: str, mode: str, live: str) -> str | None:
    """A service's base URL: the variable, else the real service in live mode (None in sandbox
    mode: the home's sandbox answers)."""
    return env.get(name) or (live if mode == "live" else None)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build Settings from an environment mapping (the process environment by default)."""
    env = dict(os.environ if environ is None else environ)
    root = _find_project_root()
    secrets = _secrets_toml(root)
    home = Path(env.get("GOURMAND_HOME") or root / ".gourmand").expanduser().resolve()
    executor = _choice(
        env, "GOURMAND_DAGSTER_EXECUTOR", "in_process", ("in_process", "multiprocess")
    )
    warehouse = _choice(env, "GOURMAND_WAREHOUSE", "duckdb", ("duckdb", "postgres", "bigquery"))
    mode = _choice(env, "GOURMAND_SOURCES", "sandbox", ("sandbox", "live"))

    def secret(env_name: str, toml_key: str) -> str:
        return env.get(env_name) or _lookup(secrets, toml_key) or ""

    yelp_key = secret("GOURMAND_YELP_API_KEY", "sources.yelp.api_key")
    if mode == "sandbox":
        yelp_key = yelp_key or SANDBOX_TOKEN
    locations = tuple(
        loc.strip() for loc in env.get("GOURMAND_YELP_LOCATIONS", "").split(";") if loc.strip()
    )
    return Settings(
        project_root=root,
        home=home,
        oltp_dsn=env.get("GOURMAND_OLTP_DSN") or None,
        reader_dsn=secret("GOURMAND_READER_DSN", "postgres.reader_dsn") or None,
        lake_url=env.get("GOURMAND_LAKE_URL") or (home / "lake").as_uri(),
        warehouse=warehouse,  # type: ignore[arg-type]
        warehouse_path=Path(
            env.get("GOURMAND_WAREHOUSE_PATH") or home / "warehouse.duckdb"
        ).resolve(),
        dagster_home=Path(env.get("DAGSTER_HOME") or home / "dagster").resolve(),
        sources_mode=mode,  # type: ignore[arg-type]
        yelp_base_url=_live_or_sandbox(
            env, "GOURMAND_YELP_BASE_URL", mode, "https://api.yelp.com/v3"
        ),
        yelp_api_key=yelp_key,
        census_base_url=_live_or_sandbox(
            env, "GOURMAND_CENSUS_BASE_URL", mode, "https://api.census.gov/data"
        ),
        census_api_key=secret("GOURMAND_CENSUS_API_KEY", "sources.census.api_key"),
        states_url=_live_or_sandbox(
            env, "GOURMAND_STATES_URL", mode, "https://www.50states.com/abbreviations.htm"
        ),
        yelp_locations=locations,
        yelp_max_locations=_env_int(env, "GOURMAND_YELP_MAX_LOCATIONS", 0),
        yelp_concurrency=max(_env_int(env, "GOURMAND_YELP_CONCURRENCY", 1), 1),
        start_date=_start_date(env),
        demo_days=_env_int(env, "GOURMAND_DEMO_DAYS", 7),
        http_timeout=_env_float(env, "GOURMAND_HTTP_TIMEOUT", 30.0),
        read_timeout=_env_float(env, "GOURMAND_READ_TIMEOUT", 300.0),
        http_max_attempts=_env_int(env, "GOURMAND_HTTP_MAX_ATTEMPTS", 5),
        http_backoff=_env_float(env, "GOURMAND_HTTP_BACKOFF", 1.0),
        http_max_delay=_env_float(env, "GOURMAND_HTTP_MAX_DELAY", 60.0),
        step_retries=_env_int(env, "GOURMAND_STEP_RETRIES", 3),
        step_retry_delay=_env_float(env, "GOURMAND_STEP_RETRY_DELAY", 30.0),
        lake_endpoint_url=env.get("GOURMAND_LAKE_ENDPOINT_URL") or None,
        lake_key_id=secret("GOURMAND_LAKE_KEY_ID", "lake.aws_access_key_id"),
        lake_secret=secret("GOURMAND_LAKE_SECRET", "lake.aws_secret_access_key"),
        lake_region=env.get("GOURMAND_LAKE_REGION", "us-east-1"),
        sandbox_args=_sandbox_args(env),
        alert_webhook=secret("GOURMAND_ALERT_WEBHOOK", "alerts.webhook"),
        socrata_base_url=_live_or_sandbox(
            env, "GOURMAND_SOCRATA_BASE_URL", mode, "https://data.lacity.org"
        ),
        socrata_app_token=secret("GOURMAND_SOCRATA_APP_TOKEN", "sources.socrata.app_token"),
        socrata_datasets=_year_ids(env.get("GOURMAND_SOCRATA_DATASETS", "")),
        socrata_years=_years(env.get("GOURMAND_SOCRATA_YEARS", "2023,2024")),
        hr_drop_dir=Path(env["GOURMAND_HR_DROP_DIR"]).expanduser().resolve()
        if env.get("GOURMAND_HR_DROP_DIR")
        else None,
        ingest_token=secret("GOURMAND_INGEST_TOKEN", "ingest.token"),
        read_tokens=tuple(
            t.strip()
            for t in secret("GOURMAND_READ_TOKENS", "api.read_tokens").split(",")
            if t.strip()
        ),
        api_anonymous_read=env.get("GOURMAND_API_ANONYMOUS_READ", "").lower()
        in ("1", "true", "yes"),
        bq_project=env.get("GOURMAND_BQ_PROJECT") or "gourmand",
        bq_location=env.get("GOURMAND_BQ_LOCATION") or "US",
        bq_keyfile=secret("GOURMAND_BQ_KEYFILE", "bigquery.keyfile"),
        bq_endpoint=env.get("GOURMAND_BQ_ENDPOINT") or None,
        bq_max_bytes_billed=_env_int(env, "GOURMAND_BQ_MAX_BYTES_BILLED", 10 * 1024**3),
        dagster_executor=executor,  # type: ignore[arg-type]
        dagster_max_processes=max(_env_int(env, "GOURMAND_DAGSTER_MAX_PROCESSES", 4), 1),
        duckdb_memory_limit=env.get("GOURMAND_DUCKDB_MEMORY_LIMIT") or "1GB",
    )


def _year_ids(raw: str) -> tuple[tuple[int, str], ...]:
    """`2023:4a4x-mna2,2024:b7dx-7gc3` -> ((2023, "4a4x-mna2"), (2024, "b7dx-7gc3"))."""
    pairs = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        year, _, dataset = item.partition(":")
        if not year.isdigit() or not dataset:
            raise ValueError(f"GOURMAND_SOCRATA_DATASETS wants year:id pairs, got {item!r}")
        pairs.append((int(year), dataset.strip()))
    return tuple(pairs)


def _years(raw: str) -> tuple[int, ...]:
    try:
        return tuple(int(y) for y in raw.split(",") if y.strip())
    except ValueError as exc:
        raise ValueError(f"GOURMAND_SOCRATA_YEARS wants years like 2023,2024, got {raw!r}") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read from the environment once."""
    return load_settings()


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment a child process (dbt, dagster dev) needs to see the same home.

    The only other place that touches os.environ: it copies it for subprocesses.
    """
    env = dict(os.environ)
    env["GOURMAND_HOME"] = str(settings.home)
    env["DAGSTER_HOME"] = str(settings.dagster_home)
    return env


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """`values` in this process's environment for the block, then what was there before: for
    dbt run in process, whose profile reads its connection through env_var(). Not for threads
    that read the environment meanwhile: callers take one at a time (extract.runtime.dbt_invoke)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
