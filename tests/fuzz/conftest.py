"""The servers the fuzz tests run against: the suite's own fixtures, a warehouse built by the
real chain behind `gourmand serve` (test_read_api) and the ingest app on a fresh database
(test_hr_api)."""

from tests.integration.serve.test_hr_api import server, settings  # noqa: F401
from tests.integration.serve.test_read_api import api, built  # noqa: F401
