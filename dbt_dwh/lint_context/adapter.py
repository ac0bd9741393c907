"""`adapter.dispatch(name)`: the DuckDB variant of one of the project's macros, else its default,
found among the macros sqlfluff loaded from macros/ (dbt's own search order for a DuckDB target)."""

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

PREFIXES = ("duckdb__", "default__")


@pass_context
def dispatch(context: Context, macro_name: str, macro_namespace: str | None = None) -> Any:
    for prefix in PREFIXES:
        macro = context.get(prefix + macro_name)
        if macro is not None:
            return macro
    raise LookupError(f"adapter.dispatch: no {' or '.join(p + macro_name for p in PREFIXES)}")
