"""The garbage collector's thresholds for this project's processes.

dbt and Dagster allocate millions of container objects that live for a whole invocation (the
manifest's nodes, each node's Jinja context, Dagster's events). With CPython's default thresholds
(700, 10, 10) the collector scans the young objects every 700 net allocations and the whole heap
every 70,000 or so, so it scanned the same long-lived objects again and again: measured with
`gc.callbacks` over a whole `make test`, 201 s of the 1,282 s of CPU of its Python processes
(16%); 4.4 s of a 34 s `gourmand materialize` of one day, 15.3 s of 95 s in a test worker
building three dbt test files, 10.2 s of that in 37 full collections.

(2,000, 20, 100) collects young objects a third as often and the whole heap a tenth as often:
1.5 s of 31 s for the same `gourmand materialize` (no full collection), 7.6 s of 92 s for the
test worker, for a peak RSS up to 6% higher (the test worker; 0-3% for the
`gourmand materialize`, 1.0x in the bench). Cycles are still collected, later. Larger young
thresholds were slower (50,000: each young collection no longer fits the CPU's caches, 62 ms
each). `bench/collector.py` measures it on a dbt build of a demo home.

Set once, where a process starts (the `gourmand` command, the Dagster code location's
definitions, the test session), not at import: importing a module changes nothing.
"""

from __future__ import annotations

import gc

THRESHOLDS = (2_000, 20, 100)


def tune_collector() -> None:
    """Give this process the project's collector thresholds (idempotent)."""
    gc.set_threshold(*THRESHOLDS)
