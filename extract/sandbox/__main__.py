"""`python -m extract.sandbox` / `gourmand sandbox`: serve the sandbox until stopped."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from extract.sandbox.config import SandboxConfig
from extract.sandbox.server import SandboxServer


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gourmand sandbox",
        description="Local stand-ins for the Yelp, Census and states "
        "services, deterministic and seeded, on 127.0.0.1.",
    )
    p.add_argument("--host", default="127.0.0.1", help="127.0.0.1 or localhost only")
    p.add_argument("--port", type=int, default=0, help="0 lets the OS choose")
    p.add_argument("--state-file", type=Path, help="write {url, port, pid} here once listening")
    p.add_argument("--log-requests", action="store_true")
    for f in dataclasses.fields(SandboxConfig):
        p.add_argument(
            f"--{f.name.replace('_', '-')}", dest=f.name, default=None, help=f"default {f.default}"
        )
    return p


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    values: dict[str, Any] = {
        f.name: getattr(args, f.name) for f in dataclasses.fields(SandboxConfig)
        if getattr(args, f.name) is not None
    }  # fmt: skip
    return SandboxConfig.from_mapping(values)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost"):
        print(f"error: the sandbox binds loopback only, not {args.host}", file=sys.stderr)
        return 2
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server = SandboxServer(config, host=args.host, port=args.port, log_requests=args.log_requests)
    if args.state_file:
        state = {"url": server.url, "port": server.port, "pid": os.getpid()}
        tmp = args.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(args.state_file)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"sandbox listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        if args.state_file:
            try:
                if json.loads(args.state_file.read_text()).get("pid") == os.getpid():
                    args.state_file.unlink()
            except (OSError, ValueError):
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
