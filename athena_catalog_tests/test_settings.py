"""Every ATHENA_CATALOG_* variable: its default, and a bad value failing with one message that
names the variable and the value, from the settings module up to the code location load."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._utils.schedules import is_valid_cron_string

from athena_catalog import settings
from athena_catalog.defs.refresh.schedules import refresh_catalog_schedule
from athena_catalog.defs.resources import athena_resource_from_env
from athena_catalog.defs.tables.loader import athena_table_specs
from athena_catalog.defs.usage.schedules import usage_schedules
from athena_catalog.defs.usage.sensors import build_new_queries_sensor
from athena_catalog.settings import SettingsError

README = Path(__file__).parents[1] / "README.md"

CRON_RULE = "a cron string of five fields (minute hour day month weekday) or an alias (@daily)"
# (variable, a bad value, the rule the message states)
BAD = [
    ("ATHENA_CATALOG_ENGINE", "snowflake", "one of aws, local"),
    (
        "ATHENA_CATALOG_STORE_URL",
        "not a url",
        "a SQLAlchemy URL (sqlite:///path or postgresql+psycopg2://user:pw@host/db)",
    ),
    (
        "ATHENA_CATALOG_WORK_GROUP",
        "my group!",
        "an Athena work group name (1-128 of A-Z a-z 0-9 . _ -)",
    ),
    ("ATHENA_CATALOG_S3_STAGING_DIR", "/tmp/results", "an s3:// URI (s3://bucket/prefix/)"),
    (
        "ATHENA_ASSUME_ROLE_ARN",
        "reader",
        "an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)",
    ),
    ("ATHENA_ASSUME_ROLE_SESSION_NAME", "has space", "2-64 of A-Z a-z 0-9 _ + = , . @ -"),
    ("ATHENA_ASSUME_ROLE_SOURCE_IDENTITY", "x", "2-64 of A-Z a-z 0-9 _ + = , . @ -"),
    ("ATHENA_CATALOG_TABLE_ASSETS", "many", "a whole number from 0 to 1000000"),
    ("ATHENA_CATALOG_TABLE_ASSETS", "-1", "a whole number from 0 to 1000000"),
    ("ATHENA_CATALOG_USAGE_SENSOR_INTERVAL", "abc", "a whole number of seconds from 30 to 86400"),
    ("ATHENA_CATALOG_USAGE_SENSOR_INTERVAL", "10", "a whole number of seconds from 30 to 86400"),
    ("ATHENA_CATALOG_USAGE_SENSOR_INTERVAL", "1.5", "a whole number of seconds from 30 to 86400"),
    ("ATHENA_CATALOG_REFRESH_CRON", "every day", CRON_RULE),
    ("ATHENA_CATALOG_REFRESH_CRON", "0 0 30 2 *", CRON_RULE),
    ("ATHENA_CATALOG_USAGE_HOURLY_CRON", "*/5 * * * * *", CRON_RULE),
    ("ATHENA_CATALOG_USAGE_DAILY_CRON", "61 4 * * *", CRON_RULE),
    ("ATHENA_CATALOG_USAGE_WEEKLY_CRON", "0 4 * *", CRON_RULE),
    ("ATHENA_CATALOG_QUALITY_CRON", "hourly", CRON_RULE),
    (
        "ATHENA_CATALOG_DBT_TARGET",
        "dbt/target,s3://",
        "folders or s3:// prefixes (s3://bucket/prefix/), separated by commas or os.pathsep"
        " (: or ;)",
    ),
]


@pytest.fixture(autouse=True)
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in settings.ALL:
        monkeypatch.delenv(setting.name, raising=False)


def by_name(name: str) -> settings.Setting[object]:
    return next(s for s in settings.ALL if s.name == name)


@pytest.mark.parametrize(("name", "value", "rule"), BAD)
def test_a_bad_value_names_the_variable_the_rule_and_the_value(
    name: str, value: str, rule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    expected = f"{name} must be {rule}, got {value!r}"
    with pytest.raises(SettingsError) as raised:
        by_name(name).read()
    assert str(raised.value) == expected
    with pytest.raises(SettingsError) as raised:
        settings.check_all()
    assert str(raised.value) == expected


def test_every_variable_is_tested_or_takes_any_text() -> None:
    any_text = {"ATHENA_CATALOG_HOME", "ATHENA_CATALOG_DATABASE", "ATHENA_CATALOG_CATALOG_ID"}
    any_text |= {"ATHENA_CATALOG_QUALITY_FILE"}
    assert {s.name for s in settings.ALL} == {name for name, _, _ in BAD} | any_text


def test_defaults() -> None:
    settings.check_all()
    values = {s.name: s.read() for s in settings.ALL}
    assert values == {
        "ATHENA_CATALOG_ENGINE": "local",
        "ATHENA_CATALOG_HOME": Path(".athena_catalog"),
        "ATHENA_CATALOG_STORE_URL": None,
        "ATHENA_CATALOG_DATABASE": None,
        "ATHENA_CATALOG_CATALOG_ID": None,
        "ATHENA_CATALOG_WORK_GROUP": None,
        "ATHENA_CATALOG_S3_STAGING_DIR": None,
        "ATHENA_ASSUME_ROLE_ARN": None,
        "ATHENA_ASSUME_ROLE_SESSION_NAME": None,
        "ATHENA_ASSUME_ROLE_SOURCE_IDENTITY": None,
        "ATHENA_CATALOG_TABLE_ASSETS": 5000,
        "ATHENA_CATALOG_USAGE_SENSOR_INTERVAL": 300,
        "ATHENA_CATALOG_REFRESH_CRON": "0 3 * * *",
        "ATHENA_CATALOG_USAGE_HOURLY_CRON": "5 * * * *",
        "ATHENA_CATALOG_USAGE_DAILY_CRON": "15 4 * * *",
        "ATHENA_CATALOG_USAGE_WEEKLY_CRON": "30 4 * * 1",
        "ATHENA_CATALOG_QUALITY_FILE": Path("quality.yaml"),
        "ATHENA_CATALOG_QUALITY_CRON": "0 6 * * *",
        "ATHENA_CATALOG_DBT_TARGET": (),
    }
    assert build_new_queries_sensor().minimum_interval_seconds == 300
    assert refresh_catalog_schedule().cron_schedule == "0 3 * * *"


def test_blank_means_unset_and_values_are_read_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATHENA_CATALOG_USAGE_SENSOR_INTERVAL", "  ")
    assert build_new_queries_sensor().minimum_interval_seconds == 300
    monkeypatch.setenv("ATHENA_CATALOG_USAGE_SENSOR_INTERVAL", " 45 ")
    assert build_new_queries_sensor().minimum_interval_seconds == 45
    monkeypatch.setenv("ATHENA_CATALOG_USAGE_WEEKLY_CRON", "@daily")
    crons = {s.name: s.cron_schedule for s in usage_schedules()}
    assert crons["usage_weekly"] == "@daily"


def test_one_message_lists_every_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATHENA_CATALOG_ENGINE", "oracle")
    monkeypatch.setenv("ATHENA_CATALOG_USAGE_SENSOR_INTERVAL", "abc")
    with pytest.raises(SettingsError) as raised:
        settings.check_all()
    assert str(raised.value).splitlines() == [
        "ATHENA_CATALOG_ENGINE must be one of aws, local, got 'oracle'",
        "ATHENA_CATALOG_USAGE_SENSOR_INTERVAL must be a whole number of seconds from 30 to "
        "86400, got 'abc'",
    ]


def test_where_each_setting_is_used_a_bad_value_fails_there(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One rule everywhere: the sensor no longer raises a bare ValueError, and the table
    assets no longer fall back to the default cap with a warning."""
    monkeypatch.setenv("ATHENA_CATALOG_USAGE_SENSOR_INTERVAL", "abc")
    with pytest.raises(SettingsError, match="ATHENA_CATALOG_USAGE_SENSOR_INTERVAL"):
        build_new_queries_sensor()
    monkeypatch.setenv("ATHENA_CATALOG_TABLE_ASSETS", "lots")
    with pytest.raises(SettingsError, match="ATHENA_CATALOG_TABLE_ASSETS must be"):
        athena_table_specs(f"sqlite:///{tmp_path / 'none.db'}")
    monkeypatch.setenv("ATHENA_CATALOG_REFRESH_CRON", "daily")
    with pytest.raises(SettingsError, match="ATHENA_CATALOG_REFRESH_CRON must be"):
        refresh_catalog_schedule()
    monkeypatch.setenv("ATHENA_CATALOG_S3_STAGING_DIR", "results/")
    with pytest.raises(SettingsError, match="ATHENA_CATALOG_S3_STAGING_DIR must be"):
        athena_resource_from_env()


def test_a_bad_store_url_never_shows_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATHENA_CATALOG_STORE_URL", "postgres ql://catalog:hunter2@db/catalog")
    with pytest.raises(SettingsError) as raised:
        settings.STORE_URL.read()
    assert "hunter2" not in str(raised.value)
    assert str(raised.value).endswith("got 'postgres ql://***@db/catalog'")


def test_the_code_location_load_fails_with_the_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATHENA_")}
    env |= {"ATHENA_CATALOG_HOME": str(tmp_path), "ATHENA_CATALOG_REFRESH_CRON": "0 3 * *"}
    done = subprocess.run(
        [sys.executable, "-c", "import athena_catalog.definitions"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        f"athena_catalog.settings.SettingsError: ATHENA_CATALOG_REFRESH_CRON must be {CRON_RULE}, "
        "got '0 3 * *'"
    )


@pytest.mark.parametrize(
    "cron",
    ["0 3 * * *", "@daily", "@hourly", "*/15 * * * *", "0 4 * * sun", "0 0 1-7 * 1", "0 0 31 2 *",
     "0 0 29 2 *", "* * * * * *", "0 3 * *", "60 * * * *", "0 24 * * *", "daily", "0 0 * * 8"],
)  # fmt: skip
def test_cron_rule_agrees_with_dagsters(cron: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATHENA_CATALOG_REFRESH_CRON", cron)
    try:
        settings.REFRESH_CRON.read()
        accepted = True
    except SettingsError:
        accepted = False
    assert accepted == is_valid_cron_string(cron)
    if accepted:
        dg.ScheduleDefinition(name="s", cron_schedule=cron, target=dg.AssetSelection.all())


def test_readme_lists_every_variable_with_its_default_and_rule() -> None:
    section = README.read_text().split("### Settings (environment variables)")[1].split("\n## ")[0]
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(r"^\| `(ATHENA_[A-Z0-9_]+)` \|.*$", section, re.M)
    }
    assert set(rows) == {s.name for s in settings.ALL}
    for setting in settings.ALL:
        assert setting.rule in rows[setting.name], setting.name
