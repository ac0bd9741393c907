"""The one partitioning of the graph: survey days. The Yelp pull and the daily fact share it, so a
range of days (a backfill) is one run from extraction to the warehouse."""

from dagster import BackfillPolicy, DailyPartitionsDefinition

from extract.settings import Settings


def daily_partitions(settings: Settings) -> DailyPartitionsDefinition:
    """The survey days from GOURMAND_START_DATE on (built with the definitions, not at import:
    the start date is a setting). Two calls give equal definitions, which Dagster treats as one."""
    return DailyPartitionsDefinition(start_date=settings.start_date.isoformat())


# Seven days of backfill are one run that loads day after day, not seven runs racing for the
# same Postgres tables and the one DuckDB writer slot.
single_run = BackfillPolicy.single_run()
