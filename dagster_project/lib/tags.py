"""Run tags the deployment's queue limits on (dagster_project/deploy/dagster.yaml): a job that
writes a store carries its tag, and the queued run coordinator runs one such run at a time.
Pools already keep two steps off the same store at once; the tags keep whole runs apart, so a
run's lake export, load and build see one consistent lake."""

WRITES_OLTP = {"gourmand/writes-oltp": "true"}
WRITES_WAREHOUSE = {"gourmand/writes-warehouse": "true"}
WRITES_BOTH = {**WRITES_OLTP, **WRITES_WAREHOUSE}
