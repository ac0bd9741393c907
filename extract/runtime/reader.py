"""The analysts' door: a Postgres role that can read the data schemas and nothing else.

`gourmand sql` (and every read path that answers people rather than the pipeline) connects as
this role, never as the pipeline's owner. On the embedded Postgres the role is created and kept
up to date here, idempotently, on first use in any home (old homes included). A production
server gets it once from its DBA with the SQL `setup_sql()` prints (`gourmand postgres
--reader-sql`), and the pipeline is told where it is with `GOURMAND_READER_DSN`.

Why a role and not `default_transaction_read_only` on the owner's session: that is a default a
session may change (`begin read write`), and a superuser may also run programs (`copy … to
program`) and read server files (`pg_read_file`). A role without those privileges cannot,
whatever the SQL says.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import unquote, urlsplit

from extract.settings import Settings

ROLE = "gourmand_reader"
# What the role may read: every layer's data, the load ledgers and rejects (in the raw schemas),
# the fold ledger (oltp_meta), the lake export's ledger and the check results; `public` and the
# system schemas are not in it. Schemas are matched when the role is brought up to date, so a
# schema a later load creates is added then.
SCHEMAS = (
    "oltp",
    "oltp_staging",
    "oltp_meta",
    "lake_export",
    "reporting",
    "quality",
    "dwh",
    "dwh_staging",
    "marts",
    "lake",
)
RAW_PREFIX = "raw_"
STATEMENT_TIMEOUT = "5min"  # a runaway analyst query stops on its own
# The role's settings, and every door connection's: given as connection options too, which a
# role-level default (`alter role … set`, which any role may run on itself) cannot weaken
ROLE_SETTINGS = {"default_transaction_read_only": "on", "statement_timeout": STATEMENT_TIMEOUT}


def door_options(settings: Settings) -> str:
    """The connection options of a door session: read-only, and the statement timeout the
    settings give the door (GOURMAND_READ_TIMEOUT, the same limit query.py's timer enforces),
    so one setting decides both."""
    timeout = f"{round(settings.read_timeout * 1000)}ms"
    values = {**ROLE_SETTINGS, "statement_timeout": timeout}
    return " ".join(f"-c {name}={value}" for name, value in values.items())


# Functions PUBLIC may execute by default that write or block outside the table privileges: a
# large object is stored whatever the schemas allow (`lo_from_bytea` committed 32 MB), and an
# advisory lock taken by a reader blocks the pipeline's (raw_hr's DDL and loads take them).
# Revoked from PUBLIC where the pipeline's owner is a superuser (the embedded server: a
# superuser keeps them); on another server the DBA does it (setup_sql).
UNSAFE_FUNCTIONS = ("lo_create", "lo_creat", "lo_from_bytea", "lo_import")
UNSAFE_PREFIXES = ("pg_advisory", "pg_try_advisory")


class ReaderUnavailable(RuntimeError):
    """No read-only door for this database: what to set, in one sentence."""


def setup_sql(database: str, password: str = "<a password>") -> str:
    """The SQL a DBA runs once (as the owner of the pipeline's schemas) on a production server.
    Later schemas are covered by the default privileges; re-running it is harmless."""
    schemas = ", ".join(SCHEMAS)
    return f"""\
-- the analysts' read-only role for Gourmand (run as the pipeline's database user)
create role {ROLE} login password '{password}'
    nosuperuser nocreatedb nocreaterole noinherit;
alter role {ROLE} set default_transaction_read_only = on;
alter role {ROLE} set statement_timeout = '{STATEMENT_TIMEOUT}';
grant connect on database {database} to {ROLE};
-- nobody but the owners creates anything in public or in temporary tables
revoke create on schema public from public;
revoke temporary on database {database} from public;
-- as a superuser: no large objects and no advisory locks for PUBLIC (the reader would store
-- data outside the schemas, or block the pipeline's locks); grant them back to the pipeline's
-- user if it is not a superuser:
--   revoke execute on function <each of {", ".join(UNSAFE_FUNCTIONS)} and every
--   pg_advisory* / pg_try_advisory* function> from public;
--   grant execute on function <each pg_advisory* function> to <the pipeline's user>;
-- for each data schema ({schemas} and every raw_* schema):
--   grant usage on schema <schema> to {ROLE};
--   grant select on all tables in schema <schema> to {ROLE};
--   alter default privileges in schema <schema> grant select on tables to {ROLE};
"""


def _password(settings: Settings) -> tuple[str, bool]:
    """A random password per home, kept beside the owner's; and whether it is new."""
    from extract.runtime.postgres import password_file

    return password_file(settings.home / "postgres.reader-password")


def grant_reader(settings: Settings, role: str = ROLE, password: str | None = None) -> None:
    """Bring the read-only role up to date, as the owner of the data schemas: create it when a
    password is given (the embedded server), then grant it every data schema and table it lacks.
    Only statements that change something are issued, so a reader takes no catalogue locks
    while a build runs."""
    import psycopg2

    from extract.runtime.postgres import connect

    conn = connect(settings)
    try:
        for attempt in range(3):
            try:
                with conn, conn.cursor() as cur:
                    # one process at a time brings the role up to date
                    cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (role,))
                    _grant_missing(cur, role, password)
                return
            except psycopg2.errors.UndefinedTable:
                # a table dropped by a build between the catalogue read and the grant
                if attempt == 2:
                    raise
    finally:
        conn.close()


def _grant_missing(cur: Any, role_name: str, password: str | None) -> None:
    from psycopg2 import sql

    role = sql.Identifier(role_name)
    cur.execute("select 1 from pg_roles where rolname = %s", (role_name,))
    if cur.fetchone() is None:
        if password is None:
            raise ReaderUnavailable(
                f"the read-only role {role_name} does not exist on this server: create it with "
                "the SQL `gourmand postgres --reader-sql` prints"
            )
        cur.execute(
            sql.SQL(
                "create role {} login password {} nosuperuser nocreatedb nocreaterole noinherit"
            ).format(role, sql.Literal(password))
        )
        for name, value in ROLE_SETTINGS.items():
            cur.execute(
                sql.SQL("alter role {} set {} = {}").format(
                    role, sql.Identifier(name), sql.Literal(value)
                )
            )
    cur.execute(
        "select has_database_privilege(%s, current_database(), 'CONNECT'),"
        " has_database_privilege('public', current_database(), 'TEMPORARY'),"
        " has_schema_privilege('public', 'public', 'CREATE'),"
        " current_database()",
        (role_name,),
    )
    can_connect, public_temp, public_create, database_name = cur.fetchone()
    database = sql.Identifier(database_name)
    if not can_connect:
        cur.execute(sql.SQL("grant connect on database {} to {}").format(database, role))
    if public_temp:
        cur.execute(sql.SQL("revoke temporary on database {} from public").format(database))
    if public_create:
        cur.execute("revoke create on schema public from public")
    _revoke_unsafe_functions(cur)
    _reassert_role_settings(cur, role_name)
    # data schemas the role cannot use yet, or holding a table it cannot read
    cur.execute(
        """
        select n.nspname
        from pg_namespace as n
        where (n.nspname = any(%(schemas)s) or n.nspname like %(raw)s)
          and (
              not has_schema_privilege(%(role)s, n.oid, 'USAGE')
              or exists (
                  select 1 from pg_class as c
                  where c.relnamespace = n.oid
                    and c.relkind in ('r', 'v', 'm', 'p', 'f')
                    and not has_table_privilege(%(role)s, c.oid, 'SELECT')
              )
          )
        order by 1
        """,
        {
            "schemas": list(SCHEMAS),
            "raw": RAW_PREFIX.replace("_", r"\_") + "%",
            "role": role_name,
        },
    )
    for (schema,) in cur.fetchall():
        name = sql.Identifier(schema)
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(name, role))
        cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(name, role))
        # tables the owner creates there later (each dbt build re-creates its tables)
        cur.execute(
            sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(
                name, role
            )
        )


def _revoke_unsafe_functions(cur: Any) -> None:
    """UNSAFE_FUNCTIONS and the advisory locks no longer executable by PUBLIC, when this
    session may revoke them (a superuser's: the embedded server); only what changes."""
    cur.execute("select current_setting('is_superuser') = 'on'")
    if not cur.fetchone()[0]:
        return
    cur.execute(
        """
        select p.oid::regprocedure::text
        from pg_proc as p
        where (p.proname = any(%(names)s) or p.proname like any(%(prefixes)s))
          and has_function_privilege('public', p.oid, 'EXECUTE')
        order by 1
        """,
        {"names": list(UNSAFE_FUNCTIONS), "prefixes": [f"{p}%" for p in UNSAFE_PREFIXES]},
    )
    for (signature,) in cur.fetchall():
        # a regprocedure's text is a quoted, schema-qualified signature: safe as SQL
        cur.execute(f"revoke execute on function {signature} from public")


def _reassert_role_settings(cur: Any, role_name: str) -> None:
    """The role's defaults back to ROLE_SETTINGS if it changed them (`alter role … set
    statement_timeout = 0` is allowed to any role on itself), when this session may (a
    superuser, or CREATEROLE); only if they differ."""
    from psycopg2 import sql

    cur.execute(
        "select coalesce(s.setconfig, '{}') from pg_roles as r left join pg_db_role_setting as s"
        " on s.setrole = r.oid and s.setdatabase = 0 where r.rolname = %s",
        (role_name,),
    )
    found = cur.fetchone()
    wanted = sorted(f"{name}={value}" for name, value in ROLE_SETTINGS.items())
    if found is None or sorted(found[0]) == wanted:
        return
    cur.execute("select rolsuper or rolcreaterole from pg_roles where rolname = current_user")
    if not cur.fetchone()[0]:
        return
    role = sql.Identifier(role_name)
    cur.execute(sql.SQL("alter role {} reset all").format(role))
    for name, value in ROLE_SETTINGS.items():
        cur.execute(
            sql.SQL("alter role {} set {} = {}").format(
                role, sql.Identifier(name), sql.Literal(value)
            )
        )


def connect_reader(settings: Settings) -> Any:
    """A psycopg2 connection as the read-only role: the embedded server's own (created on first
    use), or `GOURMAND_READER_DSN`'s. A server given by GOURMAND_OLTP_DSN without a reader DSN
    is refused: the owner's connection is never handed to an analyst."""
    import psycopg2

    from extract.runtime.postgres import connection_info

    if settings.reader_dsn:
        role = unquote(urlsplit(settings.reader_dsn).username or "") or ROLE
        # new schemas and tables since the last read; an owner that may not grant leaves the
        # grants to the DBA (setup_sql)
        with contextlib.suppress(psycopg2.errors.InsufficientPrivilege):
            grant_reader(settings, role)
        return psycopg2.connect(
            settings.reader_dsn, application_name="gourmand-reader", options=door_options(settings)
        )
    if not settings.embedded_postgres:
        raise ReaderUnavailable(
            "this home's Postgres is GOURMAND_OLTP_DSN, and reads go through a read-only role: "
            "set GOURMAND_READER_DSN to it (`gourmand postgres --reader-sql` prints the SQL "
            "that creates it)"
        )
    password, new = _password(settings)
    grant_reader(settings, ROLE, password)
    info = connection_info(settings)
    if new:
        _set_password(settings, password)  # a home whose password file was removed

    def open_door() -> Any:
        return psycopg2.connect(
            host=info.host,
            port=info.port,
            user=ROLE,
            password=password,
            dbname=info.database,
            application_name="gourmand-reader",
            options=door_options(settings),
        )

    try:
        return open_door()
    except psycopg2.OperationalError as exc:
        if "password authentication failed" not in str(exc):
            raise
        # the role changed its own password (any role may): the home's file is the password
        _set_password(settings, password)
        return open_door()


def _set_password(settings: Settings, password: str) -> None:
    from psycopg2 import sql

    from extract.runtime.postgres import connect

    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                sql.SQL("alter role {} password {}").format(
                    sql.Identifier(ROLE), sql.Literal(password)
                )
            )
    finally:
        conn.close()
