"""Every ``ATHENA_CATALOG_*`` (and ``ATHENA_ASSUME_ROLE_*``) environment variable: its default,
what it means and what a valid value is, parsed in one place.

One rule for a bad value: it is an error, never silently replaced by the default. Reading it
raises :class:`SettingsError` naming the variable, the rule and the value, so the code location
fails to load with that one line instead of running with a setting nobody asked for. An unset
or blank variable means its default. Each read looks at the environment as it is now (nothing
is frozen at import), and :func:`check_all` reports every bad variable at once; the code
location runs it first.

``AWS_*`` variables are not here: boto3 reads them itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from croniter import croniter
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

T = TypeVar("T")

ENGINES = ("aws", "local")


class SettingsError(ValueError):
    """An environment variable holds a value this version cannot use."""


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One environment variable: ``parse`` turns its text into the value or raises ValueError;
    ``rule`` completes "<name> must be ..." in the error and in the README's table."""

    name: str
    default: T
    meaning: str
    rule: str
    parse: Callable[[str], T]
    # How a bad value is quoted in the error: a URL's credentials never are.
    shown: Callable[[str], str] = repr

    def read(self, environ: Mapping[str, str] | None = None) -> T:
        """The value ``environ`` (default: ``os.environ`` now) gives, else the default."""
        raw = (os.environ if environ is None else environ).get(self.name, "")
        if not raw.strip():
            return self.default
        try:
            return self.parse(raw.strip())
        except ValueError:
            raise SettingsError(f"{self.name} must be {self.rule}, got {self.shown(raw)}") from None

    def is_set(self, environ: Mapping[str, str] | None = None) -> bool:
        return bool((os.environ if environ is None else environ).get(self.name, "").strip())


def _text(value: str) -> str:
    return value


def _matching(pattern: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def parse(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(value)
        return value

    return parse


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        number = int(value)  # ValueError for "abc", "1.5"
        if not low <= number <= high:
            raise ValueError(value)
        return number

    return parse


def _engine(value: str) -> str:
    if value not in ENGINES:
        raise ValueError(value)
    return value


def _cron(value: str) -> str:
    """A cron string Dagster's schedules accept: five fields (or a ``@daily``-style alias),
    checked with croniter as Dagster does, and not a day February never has."""
    if not croniter.is_valid(value):
        raise ValueError(value)
    fields = croniter.expand(value)[0]
    if len(fields) != 5:
        raise ValueError(value)
    if fields[3] == [2] and len(fields[2]) == 1 and fields[2][0] in (30, 31):
        raise ValueError(value)
    return value


def _store_url(value: str) -> str:
    try:
        make_url(value)
    except ArgumentError:
        raise ValueError(value) from None
    return value


def _without_credentials(value: str) -> str:
    return repr(re.sub(r"//[^/]*@", "//***@", value))


def _path(value: str) -> Path:
    return Path(value)


def _dbt_targets(value: str) -> tuple[str, ...]:
    """dbt target folders or s3:// prefixes, separated by commas or ``os.pathsep``."""
    # os.pathsep is ":" on POSIX: the one in "s3://" separates nothing.
    parts = re.split(f",|{re.escape(os.pathsep)}(?!//)", value)
    targets = tuple(t.strip() for t in parts)
    targets = tuple(t for t in targets if t)
    s3 = re.compile(r"s3://[^/\s]+(/\S*)?")
    if any(t.lower().startswith("s3:") and not s3.fullmatch(t) for t in targets):
        raise ValueError(value)
    return targets


_CRON_RULE = "a cron string of five fields (minute hour day month weekday) or an alias (@daily)"
# STS's pattern for role session names and source identities.
_STS_NAME = r"[\w+=,.@-]{2,64}"

ENGINE = Setting(
    "ATHENA_CATALOG_ENGINE",
    "local",
    "which engine the code location wires in: `aws` (Athena and Glue) or `local` (embedded)",
    f"one of {', '.join(ENGINES)}",
    _engine,
)
HOME = Setting(
    "ATHENA_CATALOG_HOME",
    Path(".athena_catalog"),
    "the embedded engine's folder and the default store's",
    "a folder path",
    _path,
)
STORE_URL: Setting[str | None] = Setting(
    "ATHENA_CATALOG_STORE_URL",
    None,
    "SQLAlchemy URL of the catalog store (default: `sqlite:///$ATHENA_CATALOG_HOME/catalog.db`)",
    "a SQLAlchemy URL (sqlite:///path or postgresql+psycopg2://user:pw@host/db)",
    _store_url,
    _without_credentials,
)
DATABASE: Setting[str | None] = Setting(
    "ATHENA_CATALOG_DATABASE", None, "the `athena` resource's `database`", "a database name", _text
)
CATALOG_ID: Setting[str | None] = Setting(
    "ATHENA_CATALOG_CATALOG_ID", None, "the `athena` resource's `catalog_id`", "a catalog id", _text
)
WORK_GROUP: Setting[str | None] = Setting(
    "ATHENA_CATALOG_WORK_GROUP",
    None,
    "the `athena` resource's `work_group`",
    "an Athena work group name (1-128 of A-Z a-z 0-9 . _ -)",
    _matching(r"[A-Za-z0-9._-]{1,128}"),
)
S3_STAGING_DIR: Setting[str | None] = Setting(
    "ATHENA_CATALOG_S3_STAGING_DIR",
    None,
    "the `athena` resource's `s3_staging_dir`",
    "an s3:// URI (s3://bucket/prefix/)",
    _matching(r"s3://[^/\s]+(/\S*)?"),
)
ASSUME_ROLE_ARN: Setting[str | None] = Setting(
    "ATHENA_ASSUME_ROLE_ARN",
    None,
    "the `athena` resource's `assume_role_arn`",
    "an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)",
    _matching(r"arn:aws[a-z-]*:iam::\d{12}:role/\S+"),
)
ASSUME_ROLE_SESSION_NAME: Setting[str | None] = Setting(
    "ATHENA_ASSUME_ROLE_SESSION_NAME",
    None,
    "the `athena` resource's `assume_role_session_name`",
    "2-64 of A-Z a-z 0-9 _ + = , . @ -",
    _matching(_STS_NAME),
)
ASSUME_ROLE_SOURCE_IDENTITY: Setting[str | None] = Setting(
    "ATHENA_ASSUME_ROLE_SOURCE_IDENTITY",
    None,
    "the `athena` resource's `assume_role_source_identity`",
    "2-64 of A-Z a-z 0-9 _ + = , . @ -",
    _matching(_STS_NAME),
)
TABLE_ASSETS = Setting(
    "ATHENA_CATALOG_TABLE_ASSETS",
    5000,
    "most Athena tables declared as assets; past it none are (0: off)",
    "a whole number from 0 to 1000000",
    _whole_number(0, 1_000_000),
)
USAGE_SENSOR_INTERVAL = Setting(
    "ATHENA_CATALOG_USAGE_SENSOR_INTERVAL",
    300,
    "seconds between `new_queries_sensor` ticks",
    "a whole number of seconds from 30 to 86400",
    _whole_number(30, 86_400),
)
REFRESH_CRON = Setting(
    "ATHENA_CATALOG_REFRESH_CRON", "0 3 * * *", "the refresh schedule (UTC)", _CRON_RULE, _cron
)
QUALITY_FILE = Setting(
    "ATHENA_CATALOG_QUALITY_FILE",
    Path("quality.yaml"),
    "the data-quality tests (see Data quality); none at the default path: no checks",
    "a file path",
    _path,
)
QUALITY_CRON = Setting(
    "ATHENA_CATALOG_QUALITY_CRON",
    "0 6 * * *",
    "the `data_quality_schedule` (UTC; stopped until turned on)",
    _CRON_RULE,
    _cron,
)
DBT_TARGETS: Setting[tuple[str, ...]] = Setting(
    "ATHENA_CATALOG_DBT_TARGET",
    (),
    "the dbt target folders `dbt_artifacts` reads (several: one per dbt project)",
    "folders or s3:// prefixes (s3://bucket/prefix/), separated by commas or os.pathsep (: or ;)",
    _dbt_targets,
)
# Usage schedule preset -> its default cron (UTC), and the variable that changes it.
USAGE_PRESETS = {"hourly": "5 * * * *", "daily": "15 4 * * *", "weekly": "30 4 * * 1"}
USAGE_CRONS = {
    preset: Setting(
        f"ATHENA_CATALOG_USAGE_{preset.upper()}_CRON",
        default,
        f"the `usage_{preset}` schedule (UTC)",
        _CRON_RULE,
        _cron,
    )
    for preset, default in USAGE_PRESETS.items()
}

# The `athena` resource fields the environment sets (definitions.py, `athena-catalog
# test-connection`). Region, endpoints, profile and credentials are boto3's own AWS_* variables.
RESOURCE_SETTINGS: dict[str, Setting[Any]] = {
    "engine": ENGINE,
    "assume_role_arn": ASSUME_ROLE_ARN,
    "assume_role_session_name": ASSUME_ROLE_SESSION_NAME,
    "assume_role_source_identity": ASSUME_ROLE_SOURCE_IDENTITY,
    "database": DATABASE,
    "catalog_id": CATALOG_ID,
    "work_group": WORK_GROUP,
    "s3_staging_dir": S3_STAGING_DIR,
    "local_home": HOME,
}
ENV_FIELDS = {field: setting.name for field, setting in RESOURCE_SETTINGS.items()}

ALL: tuple[Setting[Any], ...] = (
    ENGINE,
    HOME,
    STORE_URL,
    DATABASE,
    CATALOG_ID,
    WORK_GROUP,
    S3_STAGING_DIR,
    ASSUME_ROLE_ARN,
    ASSUME_ROLE_SESSION_NAME,
    ASSUME_ROLE_SOURCE_IDENTITY,
    TABLE_ASSETS,
    USAGE_SENSOR_INTERVAL,
    REFRESH_CRON,
    *USAGE_CRONS.values(),
    QUALITY_FILE,
    QUALITY_CRON,
    DBT_TARGETS,
)


def check_all(environ: Mapping[str, str] | None = None) -> None:
    """Raise one SettingsError listing every variable with a bad value (one line each)."""
    errors = []
    for setting in ALL:
        try:
            setting.read(environ)
        except SettingsError as e:
            errors.append(str(e))
    if errors:
        raise SettingsError("\n".join(errors))


def resource_fields(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The `athena` resource fields the environment sets, as the resource's field values."""
    return {
        field: str(setting.read(environ))
        for field, setting in RESOURCE_SETTINGS.items()
        if setting.is_set(environ)
    }
