"""A run's progress by layer, read from its event log while it runs, and its logs in a file.

`gourmand demo` shows this instead of Dagster's and dbt's log lines: one row per layer (extract,
OLTP, lake, warehouse, marts, checks) with how many of its planned assets (or checks) are done
and which steps run now. The layer of an asset is the first part of its key (`raw_yelp/…` is
extract, `dwh_staging/…` warehouse), not its Dagster group: the `hr` group spans every layer.
The full logs go to a file in the home (`logs_to_file`), whose path the caller prints.

On a terminal the rows update in place (rich's Live display); in a pipe (make in CI, a log
file) each layer prints one line when it is done, so the output stays short.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

LAYERS = ("extract", "oltp", "lake", "warehouse", "marts", "checks")
_PREFIXES = {
    "oltp": "oltp",
    "oltp_staging": "oltp",
    "lake": "lake",
    "dwh": "warehouse",
    "dwh_staging": "warehouse",
    "marts": "marts",
    "reports": "marts",
    "serving": "marts",
}
POLL_SECONDS = 0.5


def layer_of(asset_key: Any) -> str:
    first = asset_key.path[0]
    return "extract" if first.startswith("raw_") else _PREFIXES.get(first, "warehouse")


@dataclass
class LayerState:
    planned: int = 0
    done: int = 0
    failed: int = 0
    finished: float | None = None


@dataclass
class RunState:
    layers: dict[str, LayerState] = field(default_factory=lambda: {n: LayerState() for n in LAYERS})
    running: set[str] = field(default_factory=set)
    failed_steps: list[str] = field(default_factory=list)


def _apply(state: RunState, record: Any, now: float) -> None:
    from dagster import DagsterEventType

    event = record.event_log_entry.dagster_event
    if event is None:
        return
    kind = event.event_type
    if kind == DagsterEventType.STEP_START:
        state.running.add(event.step_key)
    elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
        state.running.discard(event.step_key)
        if kind == DagsterEventType.STEP_FAILURE:
            state.failed_steps.append(event.step_key)
    elif kind in (
        DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.ASSET_FAILED_TO_MATERIALIZE,
        DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
        DagsterEventType.ASSET_CHECK_EVALUATION,
    ):
        is_check = kind in (
            DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
            DagsterEventType.ASSET_CHECK_EVALUATION,
        )
        layer = state.layers["checks" if is_check else layer_of(event.asset_key)]
        if kind in (
            DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
            DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
        ):
            layer.planned += 1
            return
        layer.done += 1
        if kind == DagsterEventType.ASSET_FAILED_TO_MATERIALIZE or (
            is_check and not event.event_specific_data.passed
        ):
            layer.failed += 1
        if layer.done >= layer.planned:
            layer.finished = now


def _table(state: RunState, title: str, started: float) -> Table:
    out = Table(title=f"{title} ({time.perf_counter() - started:.0f}s)", title_justify="left")
    for col in ("layer", "done", "progress", "running now"):
        out.add_column(col, justify="right" if col == "done" else "left", no_wrap=True)
    running = sorted(state.running)
    for name in LAYERS:
        layer = state.layers[name]
        if not layer.planned:
            continue
        width = 20
        filled = width * layer.done // layer.planned
        bar = "█" * filled + "░" * (width - filled)
        failed = f" ({layer.failed} failed)" if layer.failed else ""
        now = ", ".join(running) if name == _layer_of_steps(state) else ""
        out.add_row(name, f"{layer.done}/{layer.planned}{failed}", bar, now)
    return out


def _layer_of_steps(state: RunState) -> str:
    """The first layer not yet done: where the running steps' work is shown."""
    for name in LAYERS:
        layer = state.layers[name]
        if layer.planned and layer.done < layer.planned:
            return name
    return ""


@contextmanager
def run_progress(instance: Any, run_id: str, console: Console, title: str) -> Iterator[RunState]:
    """Follow run `run_id` (started inside the block) on `console` until the block ends."""
    from dagster import DagsterEventType

    # the kinds _apply reads (the public enum's members, not Dagster's internal groupings)
    kinds = {
        DagsterEventType.STEP_START,
        DagsterEventType.STEP_SUCCESS,
        DagsterEventType.STEP_FAILURE,
        DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.ASSET_FAILED_TO_MATERIALIZE,
        DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
        DagsterEventType.ASSET_CHECK_EVALUATION,
    }
    state = RunState()
    stop = threading.Event()
    started = time.perf_counter()
    cursor: list[str | None] = [None]
    printed: set[str] = set()

    def poll() -> None:
        while True:
            conn = instance.get_records_for_run(run_id, cursor=cursor[0], of_type=kinds)
            now = time.perf_counter()
            for record in conn.records:
                _apply(state, record, now)
            cursor[0] = conn.cursor
            if not conn.has_more:
                return

    def lines(last: bool = False) -> None:
        """Pipes: one line per layer once it is done; when the run has ended, every layer not
        shown yet (one whose planned work did not all happen: a failed or skipped step)."""
        for name in LAYERS:
            layer = state.layers[name]
            if layer.planned and (layer.finished or last) and name not in printed:
                printed.add(name)
                failed = f", {layer.failed} failed" if layer.failed else ""
                ended = layer.finished or time.perf_counter()
                console.print(
                    f"  {name:<10} {layer.done}/{layer.planned} done{failed}"
                    f"  ({ended - started:.0f}s)"
                )

    with contextlib.ExitStack() as stack:
        if console.is_terminal:
            from rich.live import Live

            live = stack.enter_context(
                Live(_table(state, title, started), console=console, refresh_per_second=4)
            )

            def show(last: bool = False) -> None:
                live.update(_table(state, title, started))
        else:
            console.print(title)
            show = lines

        def follow() -> None:
            while not stop.wait(POLL_SECONDS):
                poll()
                show()

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        try:
            yield state
        finally:
            stop.set()
            thread.join()
            poll()
            show(last=True)


@contextmanager
def logs_to_file(path: Path) -> Iterator[Console]:
    """Send this process's stdout and stderr (Dagster's log lines, dbt's output, warnings) to
    `path` for the block; the Console returned writes to the terminal it came from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1)
    is_terminal = os.isatty(saved_out)
    with path.open("a", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield Console(file=terminal, force_terminal=is_terminal, width=_width(is_terminal))
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()


def _width(is_terminal: bool) -> int | None:
    return None if is_terminal else 110
