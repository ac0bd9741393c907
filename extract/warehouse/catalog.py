"""What the read API serves: every mart and dimension of the warehouse, described by the dbt_dwh
manifest (descriptions, keys from the unique tests) and typed by the warehouse itself.

The manifest is the one copy of the documentation: the OpenAPI schema, the data dictionary and
the extracts' dictionaries all read it through here.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from extract.runtime.query import warehouse_columns
from extract.settings import Settings

# the schemas whose tables are served: the marts, and the warehouse's dimensions
SERVED = {"marts": lambda name: True, "dwh": lambda name: name.startswith("dim_")}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # string | integer | number | boolean | date | timestamp
    description: str
    sql_type: str = ""  # as the warehouse spells it: what a value bound to it must fit


_INTEGER_BITS = {
    "TINYINT": 8, "INT1": 8, "SMALLINT": 16, "INT2": 16, "INTEGER": 32, "INT": 32, "INT4": 32,
    "BIGINT": 64, "INT8": 64, "INT64": 64, "HUGEINT": 128, "INT128": 128,
}  # fmt: skip
_UNSIGNED_BITS = {"UTINYINT": 8, "USMALLINT": 16, "UINTEGER": 32, "UBIGINT": 64, "UHUGEINT": 128}
_REAL_MAX = 3.4028234663852886e38  # a 4-byte float's largest finite value
# BigQuery's NUMERIC and BIGNUMERIC hold 29 and 38 digits before the point
_DECIMAL_DIGITS = {"NUMERIC": 29, "BIGNUMERIC": 38, "BIGDECIMAL": 38}
_DECIMAL = re.compile(r"^(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$")


def fits(sql_type: str, value: int | float) -> bool:
    """Whether a number can be compared with a column of `sql_type` without the warehouse
    refusing it (out of the type's range, or not finite): a value that does not fit is the
    caller's error, said before any query."""
    if isinstance(value, float) and not math.isfinite(value):
        return False
    t = sql_type.upper().strip()
    if t in _INTEGER_BITS:
        bound = 2 ** (_INTEGER_BITS[t] - 1)
        return -bound <= value < bound
    if t in _UNSIGNED_BITS:
        return 0 <= value < 2 ** _UNSIGNED_BITS[t]
    if t in ("REAL", "FLOAT4", "FLOAT"):
        return abs(value) <= _REAL_MAX
    decimal = _DECIMAL.match(t)
    if decimal:
        digits = int(decimal.group(1)) - int(decimal.group(2) or 0)
        return abs(value) < 10**digits
    if t in _DECIMAL_DIGITS:
        return abs(value) < 10 ** _DECIMAL_DIGITS[t]
    # DOUBLE, FLOAT64, Postgres's numeric without a precision: any finite number; an integer
    # still has to be one the drivers can bind
    return not isinstance(value, int) or -(2**63) <= value < 2**63


@dataclass(frozen=True)
class Resource:
    name: str
    schema: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # columns that identify a row (its unique tests); all columns if none

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def kind_of(warehouse_type: str) -> str:
    """A warehouse's column type as one of the API's six kinds."""
    t = warehouse_type.upper()
    if t.startswith("TIMESTAMP") or t == "DATETIME":
        return "timestamp"
    if t == "DATE":
        return "date"
    if t.startswith(("BOOL",)):
        return "boolean"
    if t in ("INTEGER", "INT", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "INT64", "UBIGINT"):
        return "integer"
    if t.startswith(("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC", "BIGNUMERIC")):
        return "number"
    return "string"


def manifest_path(settings: Settings) -> Path:
    return settings.project_root / "dbt_dwh" / "target" / "manifest.json"


def _keys(manifest: dict[str, Any], unique_id: str) -> tuple[str, ...]:
    """The model's key: a single-column `unique` test, else a `unique_combination` test."""
    single: list[str] = []
    combined: list[str] = []
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if node.get("resource_type") != "test" or unique_id not in node.get("depends_on", {}).get(
            "nodes", []
        ):
            continue
        kwargs = meta.get("kwargs") or {}
        if meta.get("name") == "unique" and kwargs.get("column_name"):
            single.append(str(kwargs["column_name"]))
        elif meta.get("name") == "unique_combination":
            combined = [str(c) for c in kwargs.get("columns") or []]
    if single:
        return (sorted(single)[0],)
    return tuple(combined)


def load_catalog(settings: Settings) -> dict[str, Resource]:
    """The served tables that exist in the warehouse, by name."""
    manifest = json.loads(manifest_path(settings).read_text())
    served = {
        unique_id: node
        for unique_id, node in sorted(manifest["nodes"].items())
        if node.get("resource_type") == "model"
        and node["schema"] in SERVED
        and SERVED[node["schema"]](node["name"])
    }
    built = warehouse_columns(settings, {(n["schema"], n["name"]) for n in served.values()})
    resources: dict[str, Resource] = {}
    for unique_id, node in served.items():
        schema, name = node["schema"], node["name"]
        typed = built.get((schema, name))
        if not typed:
            continue  # not built yet
        described = node.get("columns") or {}
        columns = tuple(
            Column(
                column,
                kind_of(kind),
                (described.get(column) or {}).get("description", "").strip(),
                kind,
            )
            for column, kind in typed
        )
        key = _keys(manifest, unique_id) or tuple(c.name for c in columns)
        resources[name] = Resource(
            name, schema, (node.get("description") or "").strip(), columns, key
        )
    return resources


def arrow_type(kind: str) -> Any:
    """The Arrow type a column of this kind is written as (Parquet answers and extracts)."""
    import pyarrow as pa

    return {
        "string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
        "boolean": pa.bool_(), "date": pa.date32(), "timestamp": pa.timestamp("us", "UTC"),
    }[kind]  # fmt: skip


def arrow_value(value: Any) -> Any:
    """A warehouse value as Arrow takes it (decimals as floats)."""
    return float(value) if isinstance(value, Decimal) else value


def plain_value(value: Any) -> Any:
    """A warehouse value as JSON and CSV spell it: instants in UTC ISO 8601, decimals as
    numbers, NaN as null."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and value != value:
        return None
    return value


def rows_as_csv(resource: Resource, rows: list[tuple[Any, ...]]) -> bytes:
    """Rows of a served table as CSV with a header (the API's answers and the extracts)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in resource.columns])
    writer.writerows([[plain_value(v) for v in row] for row in rows])
    return out.getvalue().encode()


def rows_as_parquet(resource: Resource, rows: list[tuple[Any, ...]]) -> bytes:
    """Rows of a served table as Parquet, typed by the columns' kinds."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            c.name: pa.array([arrow_value(r[i]) for r in rows], arrow_type(c.kind))
            for i, c in enumerate(resource.columns)
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
