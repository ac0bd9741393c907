"""The drop-folder sensor: a run of `hr` when a file in settings.hr_drops is new or changed;
ingesting is idempotent, so a file seen twice costs a no-op."""

import hashlib
import json

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from dagster_project.defs.hr.jobs import hr_job
from extract.settings import Settings


def hr_drop_sensor(settings: Settings) -> SensorDefinition:
    """The sensor on the drop folder of `settings`."""

    @sensor(
        job=hr_job,
        name="hr_drop_sensor",
        minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.STOPPED,
    )
    def evaluate(context: SensorEvaluationContext) -> RunRequest | SkipReason:
        """A run of `hr` when a file in the drop folder is new or has changed since last seen."""
        from extract.sources.hr.drops import list_drops

        folder = settings.hr_drops
        current = {f.path.name: [f.size, f.mtime_ns] for f in list_drops(folder)}
        seen = json.loads(context.cursor) if context.cursor else {}
        changed = sorted(name for name, stamp in current.items() if seen.get(name) != stamp)
        context.update_cursor(json.dumps(current, sort_keys=True))
        if not changed:
            return SkipReason(f"no new HR file in {folder}")
        digest = hashlib.sha256(json.dumps({n: current[n] for n in changed}).encode()).hexdigest()
        return RunRequest(
            run_key=f"hr-drop-{digest[:16]}", tags={"gourmand/hr_files": ", ".join(changed)[:250]}
        )

    return evaluate
