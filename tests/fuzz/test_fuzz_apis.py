"""`make fuzz` (not in `make test`): schemathesis over the read API and the ingest API, as
their suite tests run it (the same servers and checks), with thousands of cases:
FUZZ_READ_CASES (20,000) and FUZZ_INGEST_CASES (4,000) at least, in runs of fixed seeds. Every
check on: no 500, no 503 for a caller's bad input, every status and body as documented. Prints
the counts."""

from __future__ import annotations

import math
import os

import httpx
import pytest

from tests.integration.serve.test_hr_api import INGEST_FUZZ_OPTIONS, TOKEN
from tests.integration.serve.test_read_api import READ, READ_FUZZ_OPTIONS
from tests.support import fuzz_api

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(5400)]

READ_CASES = int(os.environ.get("FUZZ_READ_CASES") or 20_000)
INGEST_CASES = int(os.environ.get("FUZZ_INGEST_CASES") or 4_000)


def _operations(url: str, excluded: tuple[str, ...] = ()) -> int:
    """The operations of the API's OpenAPI, but those under `excluded` paths."""
    paths = httpx.get(f"{url}/openapi.json", timeout=30).json()["paths"]
    return sum(len(methods) for path, methods in paths.items() if not path.startswith(excluded))


def _fuzz(url: str, token: str, tmp_path, cases: int, seed: int, options, operations: int):
    """Runs from `seed` on (seed + 1, ...) until `cases` test cases in all: max-examples is per
    operation and an upper bound (its fuzzing phase; the coverage phase adds its own cases, and
    a small input space, the ingest API's three operations, runs out before it)."""
    examples = math.ceil(cases / operations)
    generated = 0
    for run_seed in range(seed, seed + 10):
        run, found = fuzz_api(
            url, token, tmp_path, examples=examples, seed=run_seed, options=options
        )
        generated += found
        print(f"\n{url}: {operations} operations, {examples} examples each, seed {run_seed}: "
              f"{found:,} test cases ({generated:,} in all)")  # fmt: skip
        print(run.stdout[-800:])
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert "No issues found" in run.stdout, run.stdout[-3000:]
        if generated >= cases:
            return
    raise AssertionError(f"{generated:,} test cases in ten runs, fewer than {cases:,}")


def test_the_read_api_over_thousands_of_cases(api, tmp_path):
    operations = _operations(api, excluded=("/ingest/", "/records/"))
    _fuzz(api, READ, tmp_path, READ_CASES, 19, READ_FUZZ_OPTIONS, operations)


def test_the_ingest_api_over_thousands_of_cases(server, tmp_path):
    _fuzz(server, TOKEN, tmp_path, INGEST_CASES, 14, INGEST_FUZZ_OPTIONS, _operations(server))
