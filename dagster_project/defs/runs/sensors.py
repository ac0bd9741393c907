"""A sensor that fails the runs whose process is gone and frees their pool slots (see
dagster_project/lib/runs.py), so a killed run never blocks the next one for ever."""

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from dagster_project.lib.runs import reap_dead_runs


@sensor(
    name="reap_dead_runs",
    description="Every minute: a run still STARTED whose processes are all gone (killed, or its "
    "machine stopped) is marked failed and its pool slots freed.",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
)
def reap_dead_runs_sensor(context: SensorEvaluationContext) -> SkipReason:
    reaped = reap_dead_runs(context.instance)
    for run_id, pids in reaped:
        context.log.warning(f"run {run_id}: its process (pid {pids}) is gone; marked failed")
    return SkipReason(f"{len(reaped)} dead run(s) reaped" if reaped else "no dead run")
