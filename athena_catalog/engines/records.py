"""What every engine returns: plain records shaped like Glue and Athena's own answers.

The crawl, the store and the assets only ever see these types, so the AWS engine and the
embedded engine are interchangeable and the core logic is testable without either. What an
engine does with them is ``athena_catalog.engines.contract``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from athena_catalog.names import table_fqn

# Glue's TableType values, plus ICEBERG for tables whose parameters say table_type=ICEBERG.
EXTERNAL_TABLE = "EXTERNAL_TABLE"
MANAGED_TABLE = "MANAGED_TABLE"
VIRTUAL_VIEW = "VIRTUAL_VIEW"
ICEBERG = "ICEBERG"
TABLE_TYPES = (EXTERNAL_TABLE, MANAGED_TABLE, VIRTUAL_VIEW, ICEBERG)

DEFAULT_CATALOG = "AwsDataCatalog"  # the Glue catalog of the caller's account, as Athena names it
DEFAULT_WORK_GROUP = "primary"  # Athena's work group when none is named


class EngineError(Exception):
    """An engine could not answer; the message names the call and the cause, never a secret."""

    def __init__(self, message: str, *, code: str | None = None, operation: str | None = None):
        super().__init__(message)
        self.code = code
        self.operation = operation


@dataclass(frozen=True)
class DataCatalog:
    name: str
    type: str  # GLUE, LAMBDA, HIVE or FEDERATED, as Athena's ListDataCatalogs says
    description: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Database:
    catalog: str
    name: str
    description: str | None = None
    location: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # an Athena type string: bigint, decimal(10,2), struct<a:int,b:array<string>>
    description: str | None = None
    is_partition_key: bool = False


@dataclass(frozen=True)
class Table:
    catalog: str
    database: str
    name: str
    table_type: str
    columns: tuple[Column, ...] = ()  # data columns first, then partition keys
    description: str | None = None
    location: str | None = None
    storage_format: str | None = None  # parquet, orc, json, csv, avro, iceberg ...
    view_sql: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    owner: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def fqn(self) -> str:
        """The store's key: unambiguous whatever the parts hold (``athena_catalog.names``)."""
        return table_fqn(self.catalog, self.database, self.name)

    @property
    def is_view(self) -> bool:
        return self.table_type == VIRTUAL_VIEW

    @property
    def partition_keys(self) -> list[str]:
        return [c.name for c in self.columns if c.is_partition_key]


@dataclass(frozen=True)
class QueryExecution:
    """One row of query history, with the fields of Athena's QueryExecution."""

    query_id: str
    query: str
    statement_type: str | None  # DDL, DML or UTILITY
    state: str  # SUCCEEDED, FAILED, CANCELLED (QUEUED / RUNNING are never stored)
    work_group: str
    catalog: str | None
    database: str | None
    submitted_at: datetime
    completed_at: datetime | None
    data_scanned_bytes: int | None
    engine_ms: int | None
    error_message: str | None = None


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    query_id: str | None = None
    bytes_scanned: int | None = None  # Athena's DataScannedInBytes; the local engine's estimate


@dataclass(frozen=True)
class UnreadableExecution:
    """A history record that cannot become a QueryExecution, and why (a counted reason)."""

    query_id: str | None
    reason: str
    detail: str | None = None


@dataclass(frozen=True)
class WorkGroups:
    """The work groups whose history is read, one cursor each.

    ``note`` says why the list stands in for a real listing (denied, or throttled past the
    retry budget); ``throttled`` is True for the second. An engine that keeps one log for all
    work groups lists one name for it.
    """

    names: tuple[str, ...]
    note: str | None = None
    throttled: bool = False


@dataclass(frozen=True)
class HistoryReadNotes:
    """How an engine's history reads went beyond the plain path, for the run's metadata."""

    fallback_calls: int = 0  # e.g. GetQueryExecution per id where BatchGet is missing
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableEstimates:
    """What the source says about a table's size without scanning it; None where it is silent.

    ``source`` names where the numbers come from (Glue table parameters, DuckDB's count), so
    a consumer can tell an exact count from a crawler's estimate.
    """

    row_count: int | None = None
    size_bytes: int | None = None
    source: str | None = None
