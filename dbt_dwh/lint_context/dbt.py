"""dbt's cross-database macros (`dbt.dateadd` and the like) as dbt-duckdb renders them for the
arguments this project passes. They are dbt's, not this project's: they live in the installed
dbt-core and dbt-duckdb packages (a folder that depends on the environment, so .sqlfluff cannot
name it), dispatch through the `dbt` namespace, and `hash` asks `api.Column` for a type name."""


def dateadd(datepart: str, interval: object, from_date_or_timestamp: object) -> str:
    return f"({from_date_or_timestamp} + cast({interval} as bigint) * interval 1 {datepart})"


def datediff(first_date: object, second_date: object, datepart: str) -> str:
    return f"(date_diff('{datepart}', {first_date}::timestamp, {second_date}::timestamp))"


def date_trunc(datepart: str, date: object) -> str:
    return f"date_trunc('{datepart}', {date})"


def hash(field: object) -> str:  # noqa: A001 (dbt's name)
    return f"md5(cast({field} as varchar))"
