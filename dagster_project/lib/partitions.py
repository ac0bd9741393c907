"""The one partitioning of the graph: survey days. The Yelp pull and the daily fact share it, so a
range of days (a backfill) is one run from extraction to the warehouse."""

from dagster import BackfillPolicy, DailyPartitionsDefinition

from extract.settings import get_settings

daily_partitions = DailyPartitionsDefinition(start_date=get_settings().start_date.isoformat())

# Seven days of backfill are one run that loads day after day, not seven runs racing for the
# same Postgres tables and the one DuckDB writer slot.
single_run = BackfillPolicy.single_run()
