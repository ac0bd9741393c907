"""The read API under load: requests/s and p50/p99 latency of a cached and an uncached mart page
at 1 and 16 concurrent clients, measured with wrk (Debian's, a C load generator: a Python one
would saturate before the server does) against `gourmand serve` on 127.0.0.1, over a private
home built by `gourmand demo --days 2`.

Cached: the same page again and again (the answer is in the server's cache; the ETag is not
sent, so each answer is a full 200). Uncached: a filter value that differs on every request
(`businesses__gte=-<random n>`, every row still matches), so every request queries the warehouse.
Targets: cached >= 2,000 requests/s at 16 clients; uncached p99 <= 100 ms at 1 client. The
script exits 1 when one is missed. `make bench` runs it (`python -m bench.api`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("results") / "api.json"
GOURMAND = str(Path(sys.executable).with_name("gourmand"))
TOKEN = "bench-read-token"
PAGE = "/v1/reviews_by_payment_level"
SECONDS = 5
CACHED_TARGET_RPS = 2000.0
UNCACHED_TARGET_P99_MS = 100.0

UNCACHED_LUA = """
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  return wrk.format("GET", "%s?businesses__gte=-" .. math.random(1, 2147483647))
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise ValueError(f"not a wrk latency: {text!r}")
    number, unit = found.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _wrk(url: str, clients: int, script: Path | None) -> dict[str, float]:
    cmd = ["wrk", f"-t{min(clients, 2)}", f"-c{clients}", f"-d{SECONDS}s", "--latency",
           "-H", f"Authorization: Bearer {TOKEN}"]  # fmt: skip
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{errors.group(1)} failed requests:\n{out}")
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99}


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="gourmand-bench-api-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOURMAND_", "DAGSTER_"))}
    env.update(GOURMAND_HOME=str(work / "home"), GOURMAND_READ_TOKENS=TOKEN)
    server = None
    try:
        demo = subprocess.run([GOURMAND, "demo", "--days", "2"], env=env, capture_output=True,
                              text=True, cwd=ROOT)  # fmt: skip
        if demo.returncode != 0:
            print(demo.stdout[-3000:], demo.stderr[-3000:])
            return 1
        port = _free_port()
        server = subprocess.Popen(
            [GOURMAND, "serve", "--port", str(port)], env=env, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    print("gourmand serve did not come up")
                    return 1
                time.sleep(0.2)
        script = work / "uncached.lua"
        script.write_text(UNCACHED_LUA % PAGE)
        figures = {}
        for name, lua in (("cached", None), ("uncached", script)):
            for clients in (1, 16):
                figures[f"{name}_c{clients}"] = _wrk(f"{base}{PAGE}", clients, lua)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        subprocess.run([GOURMAND, "postgres", "--stop"], env=env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

    print(f"Read API, {PAGE} (demo data, 2 days), wrk {SECONDS} s per line, one server process")
    for key, f in figures.items():
        print(f"  {key:<13} {f['rps']:>9,.0f} requests/s   p50 {f['p50_ms']:7.2f} ms   "
              f"p99 {f['p99_ms']:7.2f} ms")  # fmt: skip
    cached = figures["cached_c16"]["rps"]
    uncached = figures["uncached_c1"]["p99_ms"]
    print(f"  cached at 16 clients: {cached / CACHED_TARGET_RPS:.2f} x the target "
          f"({CACHED_TARGET_RPS:,.0f} requests/s)")  # fmt: skip
    print(f"  uncached p99 at 1 client: {uncached:.1f} ms (target <= {UNCACHED_TARGET_P99_MS:.0f})")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2))
    met = cached >= CACHED_TARGET_RPS and uncached <= UNCACHED_TARGET_P99_MS
    print("all targets met" if met else "a target was missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
