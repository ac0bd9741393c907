"""The helper processes a command may start on demand (the home's sandbox and embedded Postgres),
left as the command found them.

Sources start the sandbox and `connection_info()` starts the embedded Postgres whenever they are
needed, so any command can leave one behind. The sandbox's users are counted per home
(`extract.sandbox.process`): when a command ends and no other live process uses it, a sandbox
started on demand is stopped (it restarts in a second), whichever command started it; one that a
killed command left is stopped when the next command starts. An embedded Postgres a command
started is left running, because the next `gourmand sql`, dbt or psql session needs it and a
restart costs seconds, but the command says so on stderr, with the command that stops it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from extract.settings import Settings


def _postgres_running(settings: Settings) -> bool:
    from extract.runtime.postgres import embedded_running

    return settings.embedded_postgres and embedded_running(settings)


@contextmanager
def leave_as_found(
    settings: Settings, say: Callable[[str], None], *, tell_postgres: bool = True
) -> Iterator[None]:
    """Stop a sandbox a killed command left; at the end, stop the sandbox if this was its last
    user; say that an embedded Postgres this block started is left running and how to stop it
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
    import sys

    typed = sys.argv[0] if sys.argv else ""
    return shlex.quote(typed) if typed.endswith("gourmand") else "gourmand"
