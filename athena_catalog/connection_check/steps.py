"""The steps of test-connection, their outcomes, and the probe each engine implements."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from athena_catalog.markers import mark
from athena_catalog.timeutil import as_utc

if TYPE_CHECKING:
    from athena_catalog.defs.resources import AthenaResource
    from athena_catalog.engines.contract import Engine

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
BEGINNING = as_utc(datetime.min)  # a history read from the first execution
# test-connection should answer in seconds, not wait out the crawl's retry budget.
CHECK_ATTEMPTS = 2
CHECK_CONNECT_TIMEOUT = 5.0
CHECK_RETRY_SECONDS = 5.0
PAGE = 10


@dataclass(frozen=True)
class CheckResult:
    """One step's outcome. ``ok`` is False only for a failure: a skipped step is ok, because
    a step is skipped either by design or after the failure that blocked it was reported."""

    name: str
    ok: bool
    mandatory: bool
    detail: str
    error_code: str | None = None
    fix: str | None = None
    skipped: bool = False

    @property
    def status(self) -> str:
        return SKIP if self.skipped else PASS if self.ok else FAIL


class Skipped(Exception):
    """A step that need not or cannot run; the message says why."""


class CheckFailed(Exception):
    """A call that answered but showed a problem (e.g. the configured database is missing)."""

    def __init__(self, message: str, *, code: str, fix: str):
        super().__init__(message)
        self.code = code
        self.fix = fix


@dataclass(frozen=True)
class Step:
    name: str
    mandatory: bool
    method: str  # the probe method that runs it and returns the detail line
    service: str  # IAM prefix of the AWS calls it makes


STEPS = (
    Step("credentials", True, "credentials", "sts"),
    Step("list data catalogs", True, "data_catalogs", "athena"),
    Step("list databases", True, "databases", "glue"),
    Step("list tables", True, "tables", "glue"),
    Step("read table metadata", True, "table_metadata", "glue"),
    Step("list work groups", False, "work_groups", "athena"),
    Step("list query executions", False, "query_executions", "athena"),
    Step("run SELECT 1", True, "select_one", "athena"),
)


def pick_database(configured: str | None, names: Sequence[str], where: str) -> str:
    """The configured database when it exists, else the first listed other than ``default``,
    which Athena creates empty and so rarely has a table to read."""
    if configured and configured not in names:
        raise CheckFailed(
            f"database {configured!r} is not in {where}",
            code="DatabaseNotFound",
            fix=f"check database: it must exist in {where}",
        )
    if configured:
        return configured
    if not names:
        raise Skipped(f"no database in {where} to read")
    return ([n for n in names if n != "default"] or names)[0]


def summary(names: Sequence[str], what: str) -> str:
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return f"{len(names)} {what}" + (f": {shown}" if names else "")


class Probe(abc.ABC):
    """What both engines' steps share: the resource, the engine, the database found."""

    def __init__(self, resource: AthenaResource):
        self.resource = resource
        self.database = resource.database
        self._engine: Engine | None = None

    @property
    @abc.abstractmethod
    def engine(self) -> Engine:
        """The engine the steps run on, made on first use (after the credentials step)."""

    def select_one(self) -> str:
        rows = self.engine.execute(mark("SELECT 1")).rows
        if [tuple(str(v) for v in row) for row in rows] != [("1",)]:
            raise CheckFailed(
                f"SELECT 1 returned {rows!r}",
                code="UnexpectedResult",
                fix="the query ran but its result was wrong: check connection_options/arguments",
            )
        return "SELECT 1 returned 1"

    def fallback_fix(self) -> str:
        """The fix shown for an error no rule of the diagnosis recognises."""
        return "see the detail"

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
