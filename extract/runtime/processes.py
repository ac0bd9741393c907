"""The helper processes a command may start on demand (the home's sandbox and embedded Postgres),
left as the command found them.

Sources start the sandbox and `connection_info()` starts the embedded Postgres whenever they are
needed, so any command can leave one behind. `leave_as_found` notes what was up before the
command: a sandbox it started is stopped afterwards (it restarts in a second, and nothing after
the command needs it); an embedded Postgres it started is left running, because the next
`gourmand sql`, dbt or psql session needs it and a restart costs seconds, but the command says so
on stderr, with the command that stops it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from extract.settings import Settings


@dataclass(frozen=True)
class Helpers:
    sandbox: bool
    postgres: bool


def running_helpers(settings: Settings) -> Helpers:
    from extract.runtime.postgres import embedded_running
    from extract.sandbox.process import running_sandbox

    return Helpers(
        sandbox=running_sandbox(settings) is not None,
        postgres=settings.embedded_postgres and embedded_running(settings),
    )


@contextmanager
def leave_as_found(settings: Settings, say: Callable[[str], None]) -> Iterator[None]:
    """Stop the sandbox this block started; say that an embedded Postgres it started is left
    running and how to stop it."""
    before = running_helpers(settings)
    try:
        yield
    finally:
        after = running_helpers(settings)
        if after.sandbox and not before.sandbox:
            from extract.sandbox.process import stop_sandbox

            stop_sandbox(settings)
        if after.postgres and not before.postgres:
            say(
                f"the embedded Postgres of {settings.home} was started and is left running for "
                f"the next command; stop it with: {_gourmand()} postgres --stop"
            )


def _gourmand() -> str:
    """The command as the user typed it (`.venv/bin/gourmand` after `make`), so the line works
    when copied."""
    import shlex
    import sys

    typed = sys.argv[0] if sys.argv else ""
    return shlex.quote(typed) if typed.endswith("gourmand") else "gourmand"
