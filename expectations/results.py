"""The quality history: every check result is a row of `quality.check_results` in the OLTP
Postgres, and `quality.check_daily_summary` sums them per check and day."""

from __future__ import annotations

from collections.abc import Sequence

from expectations.runner import Outcome
from extract.settings import Settings

DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.check_results (
    result_id bigserial PRIMARY KEY,
    run_id text NOT NULL,
    layer text NOT NULL,
    asset text NOT NULL,
    check_name text NOT NULL,
    severity text NOT NULL CHECK (severity IN ('halt', 'warn')),
    passed boolean NOT NULL,
    observed text NOT NULL,
    expected text NOT NULL,
    unexpected_sample jsonb NOT NULL DEFAULT '[]',
    seconds double precision NOT NULL DEFAULT 0,
    checked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS check_results_check_time
    ON quality.check_results (check_name, checked_at);
CREATE OR REPLACE VIEW quality.check_daily_summary AS
SELECT
    checked_at::date AS day,
    layer,
    asset,
    check_name,
    severity,
    count(*) AS runs,
    count(*) FILTER (WHERE passed) AS passed,
    round(100.0 * count(*) FILTER (WHERE passed) / count(*), 1) AS pass_rate,
    max(checked_at) FILTER (WHERE NOT passed) AS last_failure
FROM quality.check_results
GROUP BY 1, 2, 3, 4, 5;
"""


def record(settings: Settings, run_id: str, outcomes: Sequence[Outcome]) -> None:
    """Append one row per outcome (creating the schema on first use)."""
    from extract.runtime.postgres import connect

    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(DDL)
        for o in outcomes:
            cur.execute(
                "INSERT INTO quality.check_results (run_id, layer, asset, check_name, severity, "
                "passed, observed, expected, unexpected_sample, seconds) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)",
                (run_id, o.layer, o.asset, o.check, o.severity, o.passed, o.observed,
                 o.expected, o.sample_json(), o.seconds),
            )  # fmt: skip
    conn.close()


def alert_message(run_id: str, job: str, failed: Sequence[Outcome]) -> dict[str, str]:
    """A Slack-compatible message naming each failed check, observed vs expected."""
    lines = [f":warning: Gourmand quality checks failed: job `{job}` (run {run_id})"]
    for o in failed:
        lines.append(
            f"`{o.check}` ({o.severity}, {o.asset}): observed {o.observed}; expected {o.expected}"
        )
    return {"text": "\n".join(lines)}
