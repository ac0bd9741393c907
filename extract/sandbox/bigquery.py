"""A local BigQuery API: bqemulator (PyPI), DuckDB-backed, serving the REST API that
google-cloud-bigquery and dbt-bigquery speak, on 127.0.0.1.

It lives in its own virtualenv (`.venv-bq`, made by `make bq-emulator`): it loads DuckDB's
spatial extension when it starts, which installs offline only for its own DuckDB (1.5.5), not
the 2.0 this project pins. The extension is imported from its PyPI wheel once per emulator home
(HOME is pointed inside it, so nothing is written to the user's ~/.duckdb).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from types import TracebackType

VENV = ".venv-bq"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1.0) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


class BigQueryEmulator:
    """One emulator process: `with BigQueryEmulator(root, work) as emu: emu.url`. Each project
    id is its own namespace in one emulator, so tests share a process and differ by project."""

    def __init__(
        self,
        project_root: Path,
        work: Path,
        project: str = "gourmand",
        gc_thresholds: tuple[int, int, int] | None = None,
    ) -> None:
        """`gc_thresholds`: the emulator's garbage collector's, if not CPython's (the tests give
        it those of the project's processes, extract/runtime/collector.py: with CPython's, 6.6 s
        of its 45 s of CPU in the BigQuery tests went to 52 full collections; 3.2 s and one
        with those)."""
        self.bin = project_root / VENV / "bin"
        self.work = work
        self.project = project
        self.gc_thresholds = gc_thresholds
        self.url = ""
        self.gcs_root = work / "gcs"  # gs://<bucket>/<path> is read from <gcs_root>/<bucket>/<path>
        self._process: subprocess.Popen[bytes] | None = None

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GOURMAND_", "DUCKDB_"))}
        env.update(
            HOME=str(self.work / "home"),
            # uploads are staged in the temporary folder: keep them in the emulator's own
            TMPDIR=str(self.work / "tmp"),
            BQEMU_GCS_LOCAL_ROOT=str(self.gcs_root),
            # Parquet/CSV/JSON are read by DuckDB's core; the format extensions would download
            BQEMU_ENABLE_FORMAT_EXTENSIONS="false",
        )
        return env

    def start(self, timeout: float = 60.0) -> BigQueryEmulator:
        if not (self.bin / "bqemulator").exists():
            raise RuntimeError(
                f"no bqemulator in {self.bin.parent}: run `make bq-emulator` (its own virtualenv)"
            )
        (self.work / "home").mkdir(parents=True, exist_ok=True)
        (self.work / "tmp").mkdir(parents=True, exist_ok=True)
        self.gcs_root.mkdir(parents=True, exist_ok=True)
        env = self._environment()
        marker = self.work / "home" / ".spatial-imported"
        if not marker.exists():
            subprocess.run(
                [
                    str(self.bin / "python"),
                    "-c",
                    "import duckdb_extensions; duckdb_extensions.import_extension('spatial')",
                ],
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
            marker.touch()
        rest, grpc = _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{rest}"
        log = (self.work / "bqemulator.log").open("ab")
        command = [str(self.bin / "bqemulator")]
        if self.gc_thresholds is not None:
            # its console script's two lines, after setting the thresholds
            command = [str(self.bin / "python"), "-c",
                       f"import gc, sys; gc.set_threshold(*{tuple(self.gc_thresholds)!r}); "
                       "sys.argv[0] = 'bqemulator'; "
                       "from bqemulator.cli import main; sys.exit(main())"]  # fmt: skip
        self._process = subprocess.Popen(
            [
                *command,
                "start",
                "--rest-host",
                "127.0.0.1",
                "--rest-port",
                str(rest),
                "--grpc-host",
                "127.0.0.1",
                "--grpc-port",
                str(grpc),
                "--project",
                self.project,
                "--log-level",
                "warning",
            ],  # fmt: skip
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not _healthy(self.url):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"bqemulator did not come up on {self.url}; see {self.work / 'bqemulator.log'}"
                )
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> BigQueryEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
