from pathlib import Path

import pytest

from extract.settings import SANDBOX_TOKEN, load_settings


def test_embedded_defaults_live_under_one_home(tmp_path: Path):
    s = load_settings({"GOURMAND_HOME": str(tmp_path / "h")})
    home = (tmp_path / "h").resolve()
    assert s.home == home
    assert s.embedded_postgres and s.postgres_dir == home / "postgres"
    assert s.lake_url == (home / "lake").as_uri()
    assert s.warehouse == "duckdb" and s.warehouse_path == home / "warehouse.duckdb"
    assert s.dagster_home == home / "dagster"
    assert s.sources_mode == "sandbox" and s.yelp_api_key == SANDBOX_TOKEN


def test_two_homes_share_no_path(tmp_path: Path):
    a = load_settings({"GOURMAND_HOME": str(tmp_path / "a")})
    b = load_settings({"GOURMAND_HOME": str(tmp_path / "b")})
    for field in ("postgres_dir", "warehouse_path", "dagster_home", "dlt_dir", "lake_url"):
        assert getattr(a, field) != getattr(b, field)


def test_production_switches(tmp_path: Path):
    s = load_settings({
        "GOURMAND_HOME": str(tmp_path),
        "GOURMAND_OLTP_DSN": "postgresql://u:p@db:5432/prod",
        "GOURMAND_LAKE_URL": "s3://bucket/prefix",
        "GOURMAND_WAREHOUSE": "postgres",
        "GOURMAND_SOURCES": "live",
        "GOURMAND_YELP_API_KEY": "k",
        "GOURMAND_YELP_LOCATIONS": "Cook County, Illinois; Kings County, New York",
    })  # fmt: skip
    assert not s.embedded_postgres and s.oltp_dsn == "postgresql://u:p@db:5432/prod"
    assert s.lake_url == "s3://bucket/prefix" and s.warehouse == "postgres"
    assert s.yelp_base_url == "https://api.yelp.com/v3" and s.yelp_api_key == "k"
    assert s.yelp_locations == ("Cook County, Illinois", "Kings County, New York")


def test_secrets_never_show_in_repr(tmp_path: Path):
    s = load_settings(
        {
            "GOURMAND_HOME": str(tmp_path),
            "GOURMAND_YELP_API_KEY": "sekrit-123",
            "GOURMAND_CENSUS_API_KEY": "census-456",
        }
    )
    assert "sekrit-123" not in repr(s) and "census-456" not in repr(s)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GOURMAND_WAREHOUSE", "oracle"),
        ("GOURMAND_SOURCES", "prod"),
        ("GOURMAND_HTTP_MAX_ATTEMPTS", "many"),
        ("GOURMAND_START_DATE", "yesterday"),
    ],
)
def test_bad_values_are_named_in_the_error(tmp_path: Path, name: str, value: str):
    with pytest.raises(ValueError, match=name):
        load_settings({"GOURMAND_HOME": str(tmp_path), name: value})


def test_sandbox_knobs_become_sandbox_flags(tmp_path: Path):
    s = load_settings(
        {
            "GOURMAND_HOME": str(tmp_path),
            "GOURMAND_SANDBOX_COUNTIES": "8",
            "GOURMAND_SANDBOX_BUSINESSES_PER_COUNTY": "20",
        }
    )
    assert s.sandbox_args == ("--businesses-per-county", "20", "--counties", "8")
