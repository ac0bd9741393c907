"""The module path earlier homes' dagster.yaml named for the event log: a dagster.yaml someone
edited (and gourmand therefore leaves alone) still names it. The class is in upstream.py."""

from dagster_project.lib.upstream import PooledSqliteEventLogStorage

__all__ = ["PooledSqliteEventLogStorage"]
