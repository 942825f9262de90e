"""The ``aws`` engine: Glue and Athena listings in bulk, queries through PyAthena.

Every listing is one AWS call per page (Glue GetTables returns whole tables with columns), never
one per table, and every page is retried on its own under ``RetryPolicy``. Clients come from the
caller's boto3 Session, so credentials, profiles and assumed roles stay the resource's business.
"""

from __future__ import annotations

import base64
import inspect
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pyathena
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pyathena.connection import Connection
from pyathena.error import Error as PyAthenaError

from athena_catalog.engines.base import (
    EXTERNAL_TABLE,
    ICEBERG,
    MANAGED_TABLE,
    VIRTUAL_VIEW,
    Column,
    Database,
    DataCatalog,
    EngineError,
    QueryExecution,
    QueryResult,
    Table,
)
from athena_catalog.engines.listing import Listed, ListedTags
from athena_catalog.engines.retry import RetryPolicy, error_code

log = logging.getLogger(__name__)

GLUE = "GLUE"
DEFAULT_CATALOG = "AwsDataCatalog"
USER_AGENT = "athena-catalog"
ACCESS_DENIED = frozenset({"AccessDeniedException", "AccessDenied"})

# Largest page each listing call accepts.
GLUE_PAGE = 100
ATHENA_PAGE = 50
TAGGING_PAGE = 100
LF_TAGS_PAGE = 1000  # ListLFTags
LF_SEARCH_PAGE = 100  # SearchTablesByLFTags
LF_SEARCH_VALUES = 50  # most TagValues one SearchTablesByLFTags expression accepts

# Open table formats Athena marks with Parameters table_type.
TABLE_FORMATS = frozenset({"iceberg", "hudi", "delta"})
# Substrings of a SerDe library or InputFormat class, most specific first.
FORMAT_HINTS = (
    ("hoodie", "hudi"),
    ("parquet", "parquet"),
    ("orc", "orc"),
    ("avro", "avro"),
    ("json", "json"),
    ("opencsv", "csv"),
    ("lazysimpleserde", "csv"),  # delimited text; Glue crawlers classify it as csv
    ("ionhiveserde", "ion"),
    ("ioninputformat", "ion"),
    ("cloudtrail", "cloudtrail"),
    ("regexserde", "regex"),
    ("grok", "grok"),
)
# ListQueryExecutions is throttled at about 5 requests/s per account: stay under it.
HISTORY_LISTINGS_PER_SECOND = 4.0
BATCH_GET_LIMIT = 50  # ids per BatchGetQueryExecution
# What a server that lacks an action answers (moto: HTTP 500 with an HTML page, code "500").
NOT_IMPLEMENTED_CODES = frozenset({"NotImplemented", "NotImplementedException", "InvalidAction"})
PRESTO_VIEW = re.compile(r"^/\* Presto View: (?P<payload>\S+) \*/$")


@dataclass(frozen=True)
class AwsSettings:
    """How to reach Glue and Athena. Connection dicts are passed to ``pyathena.connect``.

    String values in ``connection_options`` / ``connection_arguments`` are converted to the type
    PyAthena's ``Connection`` declares (``poll_interval`` -> float, ...); arguments win over
    options. ``retry_max_seconds`` bounds each AWS call's retries; ``max_attempts`` is
    botocore's own per-request retry count underneath.
    """

    region_name: str | None = None
    endpoint_url: str | None = None  # None: boto3's default, which honours AWS_ENDPOINT_URL
    work_group: str | None = None
    s3_staging_dir: str | None = None
    catalog_id: str | None = None  # Glue CatalogId (account) behind AwsDataCatalog
    connection_options: dict[str, str] = field(default_factory=dict)
    connection_arguments: dict[str, str] = field(default_factory=dict)
    max_workers: int = 8
    max_attempts: int = 3
    retry_max_seconds: float = 60.0
    retry_base_delay: float = 0.2
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    use_ssl: bool = True
    verify: bool | str | None = None  # False, or a CA bundle path; None means boto3's default

    def __repr__(self) -> str:
        # Connection arguments may carry keys or secrets: show their names only.
        return (
            f"AwsSettings(region_name={self.region_name!r}, endpoint_url={self.endpoint_url!r},"
            f" work_group={self.work_group!r}, s3_staging_dir={self.s3_staging_dir!r},"
            f" catalog_id={self.catalog_id!r},"
            f" connection_options=<{', '.join(sorted(self.connection_options))}>,"
            f" connection_arguments=<{', '.join(sorted(self.connection_arguments))}>,"
            f" max_workers={self.max_workers}, max_attempts={self.max_attempts},"
            f" retry_max_seconds={self.retry_max_seconds:g})"
        )


class AwsEngine:
    """Engine over Glue, Athena, the Resource Groups Tagging API and Lake Formation.

    ``glue``, ``athena``, ``tagging`` and ``lakeformation`` are the boto3 clients, public so
    callers can hook ``client.meta.events`` (call counting, fault injection) or attach a
    botocore Stubber.
    """

    kind = "aws"

    def __init__(self, session: boto3.Session, settings: AwsSettings):
        self.session = session
        self.settings = settings
        self._config = Config(
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            retries={"mode": "standard", "max_attempts": settings.max_attempts},
            user_agent_extra=USER_AGENT,
            max_pool_connections=max(10, settings.max_workers),
        )
        self._tls = _tls_kwargs(settings)
        self.glue = self._client("glue")
        self.athena = self._client("athena")
        self.tagging = self._client("resourcegroupstaggingapi")
        self.lakeformation = self._client("lakeformation")
        self._retry = RetryPolicy(
            max_seconds=settings.retry_max_seconds, base_delay=settings.retry_base_delay
        )
        self._connect_kwargs = {
            **_typed_connect_kwargs(settings.connection_options),
            **_typed_connect_kwargs(settings.connection_arguments),
        }
        self._catalogs: dict[str, DataCatalog] = {}
        self._lf_tags_unreadable: set[str] = set()  # catalogs already warned about, lowercased
        self._lf_lock = threading.Lock()
        # boto3 Sessions are not thread-safe; PyAthena builds clients from ours per query.
        self._session_lock = threading.Lock()
        self._history_pacer = Pacer(HISTORY_LISTINGS_PER_SECOND)
        self.athena.meta.events.register(
            "before-call.athena.ListQueryExecutions", self._history_pacer.wait
        )
        self.batch_get_supported = True
        self.history_calls_fallback = 0  # GetQueryExecution calls made instead of BatchGet

    def __repr__(self) -> str:
        return f"AwsEngine({self.settings!r})"

    def _client(self, service: str) -> Any:
        return self.session.client(
            service,
            region_name=self.settings.region_name,
            endpoint_url=self.settings.endpoint_url,
            config=self._config,
            **self._tls,
        )

    # -- calls -------------------------------------------------------------------------------

    def _call(self, client: Any, method: str, **params: Any) -> dict[str, Any]:
        """One AWS call under the retry policy; failures become EngineError."""
        meta = client.meta
        operation = f"{meta.service_model.endpoint_prefix}:{meta.method_to_api_mapping[method]}"
        return self._retry.call(
            operation, meta.endpoint_url, lambda: getattr(client, method)(**params)
        )

    def _pages(self, client: Any, method: str, token: str, **params: Any) -> Iterator[dict]:
        """Follow ``token`` by hand so each page is retried alone, not the whole listing."""
        next_token = None
        while True:
            page = self._call(
                client, method, **params, **({token: next_token} if next_token else {})
            )
            yield page
            next_token = page.get(token)
            if not next_token:
                return

    # -- catalogs ----------------------------------------------------------------------------

    def list_data_catalogs(self) -> Listed[DataCatalog]:
        """Athena's catalogs; AwsDataCatalog alone when ListDataCatalogs is denied.

        ListDataCatalogs' summaries lack parameters, and a Glue catalog other than
        AwsDataCatalog is only usable with its ``catalog-id`` parameter, so each non-default
        catalog costs one GetDataCatalog: catalogs number a handful, tables thousands. A catalog
        GetDataCatalog cannot describe is left out. Both fallbacks mark the answer incomplete,
        so the crawl never takes a missing catalog for a deleted one.
        """
        notes: list[str] = []
        try:
            names = [
                summary["CatalogName"]
                for page in self._pages(
                    self.athena, "list_data_catalogs", "NextToken", MaxResults=ATHENA_PAGE
                )
                for summary in page["DataCatalogsSummary"]
            ]
        except EngineError as exc:
            if exc.code not in ACCESS_DENIED:
                raise
            notes.append(f"{exc}; cataloging {DEFAULT_CATALOG} only")
            log.warning(notes[-1])
            names = []
        # Athena always lists AwsDataCatalog; moto does not.
        if not any(_is_default(name) for name in names):
            names.insert(0, DEFAULT_CATALOG)
        catalogs = []
        for name in names:
            try:
                catalogs.append(self._describe_catalog(name))
            except EngineError as exc:
                notes.append(f"data catalog {name} left out: {exc}")
        self._catalogs.update({c.name.lower(): c for c in catalogs})
        return Listed(catalogs, incomplete="; ".join(notes) or None)

    def _describe_catalog(self, name: str) -> DataCatalog:
        if _is_default(name):
            return DataCatalog(DEFAULT_CATALOG, GLUE)
        found = self._call(self.athena, "get_data_catalog", Name=name)["DataCatalog"]
        return DataCatalog(
            name=found["Name"],
            type=found["Type"],
            description=found.get("Description") or None,
            parameters=dict(found.get("Parameters") or {}),
        )

    def _catalog(self, name: str) -> DataCatalog:
        key = name.lower()
        if key not in self._catalogs:
            self._catalogs[key] = self._describe_catalog(name)
        return self._catalogs[key]

    def _catalog_id(self, catalog: DataCatalog) -> dict[str, str]:
        """Glue's CatalogId argument for a Glue catalog, or nothing for the caller's account.

        A Glue catalog other than AwsDataCatalog without its ``catalog-id`` is an error, not
        the caller's account: listing that in its place would pass one catalog off as another.
        """
        if _is_default(catalog.name):
            catalog_id = self.settings.catalog_id
        else:
            catalog_id = catalog.parameters.get("catalog-id")
            if not catalog_id:
                raise EngineError(
                    f"Glue data catalog {catalog.name} has no catalog-id parameter",
                    code="MissingCatalogId",
                )
        return {"CatalogId": catalog_id} if catalog_id else {}

    # -- databases and tables ----------------------------------------------------------------

    def list_databases(self, catalog: str) -> list[Database]:
        dc = self._catalog(catalog)
        if dc.type == GLUE:
            pages = self._pages(
                self.glue,
                "get_databases",
                "NextToken",
                MaxResults=GLUE_PAGE,
                **self._catalog_id(dc),
            )
        else:
            pages = self._pages(
                self.athena,
                "list_databases",
                "NextToken",
                CatalogName=dc.name,
                MaxResults=ATHENA_PAGE,
            )
        return [
            Database(
                catalog=dc.name,
                name=found["Name"],
                description=found.get("Description") or None,
                location=found.get("LocationUri") or None,
                parameters=dict(found.get("Parameters") or {}),
            )
            for page in pages
            for found in page["DatabaseList"]
        ]

    def list_tables(self, catalog: str, database: str) -> list[Table]:
        """Glue GetTables (or Athena ListTableMetadata off Glue): one call per page."""
        dc = self._catalog(catalog)
        if dc.type == GLUE:
            pages = self._pages(
                self.glue,
                "get_tables",
                "NextToken",
                DatabaseName=database,
                MaxResults=GLUE_PAGE,
                **self._catalog_id(dc),
            )
            return [
                table_from_glue(dc.name, database, found)
                for page in pages
                for found in page["TableList"]
            ]
        pages = self._pages(
            self.athena,
            "list_table_metadata",
            "NextToken",
            CatalogName=dc.name,
            DatabaseName=database,
            MaxResults=ATHENA_PAGE,
        )
        return [
            table_from_glue(dc.name, database, glue_shape(found))
            for page in pages
            for found in page["TableMetadataList"]
        ]

    def list_table_tags(self, catalog: str) -> ListedTags:
        """Table tags in bulk: resource tags merged with Lake Formation LF-Tags.

        Resource tags come from the Resource Groups Tagging API, 100 tables per call; it lists
        the caller's own account, so ARNs of another CatalogId than the catalog's are dropped.
        LF-Tags come from ``_lf_table_tags``: per tag key, not per table.

        On a key clash the resource tag wins: tags ingested before LF-Tags were read keep their
        values, and LF-Tags only add keys. Only Glue catalogs have tags of either kind. A tag
        read that fails (denied, or throttled past the retry budget) does not raise: what was
        read comes back marked incomplete, naming the call, so stored tags are kept.
        """
        dc = self._catalog(catalog)
        if dc.type != GLUE:
            return ListedTags()
        account = self._catalog_id(dc).get("CatalogId")
        pages = self._pages(
            self.tagging,
            "get_resources",
            "PaginationToken",
            ResourceTypeFilters=["glue:table"],
            ResourcesPerPage=TAGGING_PAGE,
        )
        tags: dict[tuple[str, str], dict[str, str]] = {}
        notes: list[str] = []
        try:
            for page in pages:
                for mapping in page["ResourceTagMappingList"]:
                    key = table_from_arn(mapping["ResourceARN"], account)
                    if key:
                        tags[key] = {t["Key"]: t["Value"] for t in mapping.get("Tags", [])}
        except EngineError as exc:
            notes.append(f"resource tags of {dc.name} not read: {exc}")
        lf_tags = self._lf_table_tags(dc)
        if lf_tags.incomplete:
            notes.append(lf_tags.incomplete)
        for key, table_lf_tags in lf_tags.items():
            tags[key] = {**table_lf_tags, **tags.get(key, {})}
        return ListedTags(tags, incomplete="; ".join(notes) or None)

    def _lf_table_tags(self, dc: DataCatalog) -> ListedTags:
        """LF-Tags of a Glue catalog's tables, inherited database LF-Tags included.

        ListLFTags (1000 keys a page) gives every tag key and its values; then, per key, one
        SearchTablesByLFTags page per 100 tables carrying it (and per 50 values, the most one
        expression takes): calls grow with tag keys and pages, never with tables. A table's
        own LF-Tag overrides the one it inherits from its database, as in Lake Formation;
        column LF-Tags are ignored. Several values of a key are joined with ",".

        Lake Formation denied or throttled past the budget yields no LF-Tags, marked
        incomplete, and one warning per catalog and engine; an account without LF-Tags costs
        the one ListLFTags call.
        """
        catalog_id = self._catalog_id(dc)
        account = catalog_id.get("CatalogId")
        tags: dict[tuple[str, str], dict[str, str]] = {}
        try:
            lf_keys = [
                (lf_tag["TagKey"], list(lf_tag.get("TagValues") or []))
                for page in self._pages(
                    self.lakeformation,
                    "list_lf_tags",
                    "NextToken",
                    MaxResults=LF_TAGS_PAGE,
                    **catalog_id,
                )
                for lf_tag in page.get("LFTags", [])
            ]
            for tag_key, values in lf_keys:
                for start in range(0, len(values), LF_SEARCH_VALUES):
                    chunk = values[start : start + LF_SEARCH_VALUES]
                    for tagged in self._lf_tagged_tables(tag_key, chunk, catalog_id):
                        table = tagged.get("Table") or {}
                        foreign = account and table.get("CatalogId", account) != account
                        if foreign or not table.get("Name"):
                            continue
                        # the table's own LF-Tags override those of its database
                        own = {
                            **_lf_pairs(tagged.get("LFTagOnDatabase")),
                            **_lf_pairs(tagged.get("LFTagsOnTable")),
                        }
                        tags.setdefault((table["DatabaseName"], table["Name"]), {}).update(own)
        except EngineError as exc:
            with self._lf_lock:
                first = dc.name.lower() not in self._lf_tags_unreadable
                self._lf_tags_unreadable.add(dc.name.lower())
            if first:
                log.warning("LF-Tags of %s not read, resource tags only: %s", dc.name, exc)
            return ListedTags(incomplete=f"LF-Tags of {dc.name} not read: {exc}")
        if not lf_keys:
            log.debug("no LF-Tags in %s", dc.name)
        return ListedTags(tags)

    def _lf_tagged_tables(
        self, tag_key: str, values: list[str], catalog_id: dict[str, str]
    ) -> Iterator[dict[str, Any]]:
        """SearchTablesByLFTags for one key and up to 50 of its values, page by page."""
        for page in self._pages(
            self.lakeformation,
            "search_tables_by_lf_tags",
            "NextToken",
            Expression=[{"TagKey": tag_key, "TagValues": values}],
            MaxResults=LF_SEARCH_PAGE,
            **catalog_id,
        ):
            yield from page.get("TableList", [])

    # -- queries -----------------------------------------------------------------------------

    def execute(
        self,
        sql: str,
        *,
        catalog: str | None = None,
        database: str | None = None,
        work_group: str | None = None,
    ) -> QueryResult:
        """Run one statement through PyAthena on this engine's Session and wait for its rows."""
        settings = self.settings
        kwargs: dict[str, Any] = {
            **self._connect_kwargs,
            **self._tls,
            "session": self.session,
            "region_name": settings.region_name,
            # PyAthena adds its user agent to the Config in place: give it a copy.
            "config": self._config.merge(Config()),
        }
        optional = {
            "endpoint_url": settings.endpoint_url,
            "s3_staging_dir": settings.s3_staging_dir,
            "work_group": work_group or settings.work_group,
            "catalog_name": catalog,
            "schema_name": database,
        }
        kwargs.update({k: v for k, v in optional.items() if v is not None})
        where = f"work group {kwargs.get('work_group') or '(default)'}"
        try:
            with self._session_lock:
                connection = pyathena.connect(**kwargs)
            with connection, connection.cursor() as cursor:
                cursor.execute(sql)
                columns = tuple(d[0] for d in cursor.description or ())
                rows = [tuple(row) for row in cursor.fetchall()]
                return QueryResult(columns=columns, rows=rows, query_id=cursor.query_id)
        except (PyAthenaError, ClientError, BotoCoreError) as exc:
            raise EngineError(
                f"Athena query failed in {where}: {exc}",
                code=error_code(exc),
                operation="athena:StartQueryExecution",
            ) from exc

    # -- query history -----------------------------------------------------------------------

    def list_work_groups(self) -> WorkGroups:
        """Enabled work groups; the configured one (or ``primary``) when the listing is denied."""
        try:
            names = [
                summary["Name"]
                for page in self._pages(self.athena, "list_work_groups", "NextToken")
                for summary in page["WorkGroups"]
                if summary.get("State", "ENABLED") == "ENABLED"
            ]
        except EngineError as exc:
            if exc.code not in ACCESS_DENIED:
                raise
            fallback = self.settings.work_group or "primary"
            note = f"{exc}; reading work group {fallback} only"
            log.warning(note)
            return WorkGroups((fallback,), denied=note)
        return WorkGroups(tuple(names))

    def query_executions(
        self,
        work_group: str,
        since: datetime,
        stored: Callable[[Sequence[str]], Mapping[str, datetime]],
    ) -> Iterator[QueryExecution | UnreadableExecution]:
        """Executions of ``work_group``, page by page, newest first, down to ``since``.

        ``stored`` maps the ids of a page that are already stored to their submission time:
        those are not fetched again. Paging stops after the first page holding an execution
        submitted before ``since`` (by date, not page count). Executions still QUEUED or
        RUNNING are yielded too, so the caller can hold its cursor before them.
        """
        pages = self._pages(
            self.athena,
            "list_query_executions",
            "NextToken",
            WorkGroup=work_group,
            MaxResults=ATHENA_PAGE,
        )
        for page in pages:
            ids = page.get("QueryExecutionIds") or []
            known = stored(ids)
            times = list(known.values())
            for found in self._get_query_executions([i for i in ids if i not in known]):
                if isinstance(found, QueryExecution):
                    times.append(found.submitted_at)
                yield found
            if times and min(times) < since:
                return

    def newest_query_ids(self, work_group: str) -> list[str]:
        """The first page of ListQueryExecutions: one call, for a cheap "anything new?" poll."""
        page = self._call(
            self.athena, "list_query_executions", WorkGroup=work_group, MaxResults=ATHENA_PAGE
        )
        return list(page.get("QueryExecutionIds") or [])

    def _get_query_executions(
        self, ids: Sequence[str]
    ) -> Iterator[QueryExecution | UnreadableExecution]:
        """BatchGetQueryExecution, 50 ids a call; GetQueryExecution per id where BatchGet is
        not implemented (a warning, once per engine) and for ids BatchGet left unprocessed."""
        for start in range(0, len(ids), BATCH_GET_LIMIT):
            batch = list(ids[start : start + BATCH_GET_LIMIT])
            if self.batch_get_supported:
                try:
                    answer = self._retry.call(
                        "athena:BatchGetQueryExecution",
                        self.athena.meta.endpoint_url,
                        lambda batch=batch: _batch_get(self.athena, batch),
                    )
                except _NotImplementedError as exc:
                    self.batch_get_supported = False
                    log.warning(
                        "BatchGetQueryExecution is not implemented at %s (%s): falling back to"
                        " one GetQueryExecution per query",
                        self.athena.meta.endpoint_url,
                        exc,
                    )
                else:
                    for item in answer.get("QueryExecutions") or []:
                        yield query_execution_from_api(item)
                    batch = [
                        u["QueryExecutionId"]
                        for u in answer.get("UnprocessedQueryExecutionIds") or []
                        if u.get("QueryExecutionId")
                    ]
            for query_id in batch:
                yield self._get_query_execution(query_id)

    def _get_query_execution(self, query_id: str) -> QueryExecution | UnreadableExecution:
        if not self.batch_get_supported:
            self.history_calls_fallback += 1
        try:
            answer = self._call(self.athena, "get_query_execution", QueryExecutionId=query_id)
        except EngineError as exc:
            if exc.code not in ("InvalidRequestException", "ResourceNotFoundException"):
                raise
            return UnreadableExecution(query_id, "not_found", str(exc))
        return query_execution_from_api(answer.get("QueryExecution") or {})

    def close(self) -> None:
        for client in (self.glue, self.athena, self.tagging, self.lakeformation):
            client.close()


@dataclass(frozen=True)
class WorkGroups:
    names: tuple[str, ...]
    denied: str | None = None  # why the configured work group stands in for a listing


@dataclass(frozen=True)
class UnreadableExecution:
    """A history record that cannot become a QueryExecution, and why."""

    query_id: str | None
    reason: str
    detail: str | None = None


class Pacer:
    """Spaces calls at least ``1 / per_second`` apart, across threads (a botocore hook)."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic):
        self.interval = 1.0 / per_second
        self._clock = clock
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, **_: Any) -> None:
        with self._lock:
            now = self._clock()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


class _NotImplementedError(Exception):
    """The endpoint does not implement the action; retrying cannot help."""


def _batch_get(client: Any, ids: list[str]) -> dict[str, Any]:
    try:
        return client.batch_get_query_execution(QueryExecutionIds=ids)
    except ClientError as exc:
        code = error_code(exc) or ""
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        # A 5xx whose code is only the status means no AWS error document came back.
        if code in NOT_IMPLEMENTED_CODES or (status == 501 or (status == 500 and code.isdigit())):
            raise _NotImplementedError(str(exc)) from exc
        raise


# -- mapping -------------------------------------------------------------------------------------


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def query_execution_from_api(item: Mapping[str, Any]) -> QueryExecution | UnreadableExecution:
    """One Athena ``QueryExecution`` structure; states and texts are checked by ingestion."""
    query_id = item.get("QueryExecutionId")
    if not isinstance(query_id, str) or not query_id:
        return UnreadableExecution(None, "missing_query_id", repr(dict(item))[:500])
    status = item.get("Status") or {}
    statistics = item.get("Statistics") or {}
    context = item.get("QueryExecutionContext") or {}
    submitted_at = _utc(status.get("SubmissionDateTime"))
    if submitted_at is None:
        return UnreadableExecution(query_id, "missing_submitted_at")
    if not isinstance(status.get("State"), str):
        return UnreadableExecution(query_id, "missing_state")
    if not isinstance(item.get("Query"), str):
        return UnreadableExecution(query_id, "missing_query")
    error = (status.get("AthenaError") or {}).get("ErrorMessage") or status.get("StateChangeReason")
    return QueryExecution(
        query_id=query_id,
        query=item["Query"],
        statement_type=item.get("StatementType"),
        state=status["State"],
        work_group=item.get("WorkGroup") or "primary",
        catalog=context.get("Catalog"),
        database=context.get("Database"),
        submitted_at=submitted_at,
        completed_at=_utc(status.get("CompletionDateTime")),
        data_scanned_bytes=statistics.get("DataScannedInBytes"),
        engine_ms=statistics.get("EngineExecutionTimeInMillis"),
        error_message=error,
    )


def _tls_kwargs(settings: AwsSettings) -> dict[str, Any]:
    """``use_ssl`` and ``verify`` as boto3 clients and PyAthena take them; unset means boto3's."""
    out: dict[str, Any] = {"use_ssl": settings.use_ssl}
    if settings.verify is not None:
        out["verify"] = settings.verify
    return out


def _is_default(catalog: str) -> bool:
    return catalog.lower() == DEFAULT_CATALOG.lower()


def _param(parameters: dict[str, str], key: str) -> str | None:
    """A parameter by case-insensitive key: writers disagree on ``table_type`` vs ``TABLE_TYPE``."""
    return next((v for k, v in parameters.items() if k.lower() == key), None)


def _columns(columns: list[dict], *, partition: bool = False) -> tuple[Column, ...]:
    return tuple(
        Column(
            name=c["Name"],
            data_type=(c.get("Type") or "").lower(),
            description=c.get("Comment") or None,
            is_partition_key=partition,
        )
        for c in columns
    )


def _table_type(glue_type: str | None, parameters: dict[str, str]) -> str:
    if glue_type == VIRTUAL_VIEW:
        return VIRTUAL_VIEW
    if (_param(parameters, "table_type") or "").upper() == ICEBERG:
        return ICEBERG
    # Glue leaves TableType unset for API-made tables; Athena reads those as external.
    return glue_type if glue_type in (EXTERNAL_TABLE, MANAGED_TABLE) else EXTERNAL_TABLE


def _storage_format(
    table_type: str, parameters: dict[str, str], serde: str | None, input_format: str | None
) -> str | None:
    if table_type == VIRTUAL_VIEW:
        return None
    table_format = (_param(parameters, "table_type") or "").lower()
    if table_format in TABLE_FORMATS:
        return table_format
    classification = _param(parameters, "classification")
    if classification:
        return classification.lower()
    for text in (serde, input_format):
        lowered = (text or "").lower()
        for hint, fmt in FORMAT_HINTS:
            if hint in lowered:
                return fmt
    return None


def _view_sql(original: str | None, expanded: str | None) -> str | None:
    """Athena hides a view's SQL in base64 JSON inside a comment; other writers don't."""
    match = PRESTO_VIEW.match((original or "").strip())
    if match:
        try:
            return json.loads(base64.b64decode(match["payload"]))["originalSql"]
        except (ValueError, KeyError, TypeError):  # not Athena's payload after all
            return original
    return original or expanded or None


def table_from_glue(catalog: str, database: str, table: dict[str, Any]) -> Table:
    """A Glue ``Table`` structure as a base.Table (tags are filled in by the crawl)."""
    parameters = dict(table.get("Parameters") or {})
    storage = table.get("StorageDescriptor") or {}
    table_type = _table_type(table.get("TableType"), parameters)
    return Table(
        catalog=catalog,
        database=database,
        name=table["Name"],
        table_type=table_type,
        columns=_columns(storage.get("Columns") or [])
        + _columns(table.get("PartitionKeys") or [], partition=True),
        description=table.get("Description") or None,
        location=storage.get("Location") or None,
        storage_format=_storage_format(
            table_type,
            parameters,
            (storage.get("SerdeInfo") or {}).get("SerializationLibrary"),
            storage.get("InputFormat"),
        ),
        view_sql=_view_sql(table.get("ViewOriginalText"), table.get("ViewExpandedText")),
        parameters=parameters,
        owner=table.get("Owner") or None,
        created_at=table.get("CreateTime"),
        updated_at=table.get("UpdateTime"),
    )


def glue_shape(metadata: dict[str, Any]) -> dict[str, Any]:
    """Athena's ``TableMetadata`` in Glue's ``Table`` shape, so one mapping serves both.

    Athena folds location, formats and comment into Parameters, and has no view SQL or owner.
    """
    parameters = metadata.get("Parameters") or {}
    return {
        "Name": metadata["Name"],
        "TableType": metadata.get("TableType"),
        "Description": parameters.get("comment"),
        "Parameters": parameters,
        "PartitionKeys": metadata.get("PartitionKeys"),
        "CreateTime": metadata.get("CreateTime"),
        "StorageDescriptor": {
            "Columns": metadata.get("Columns"),
            "Location": parameters.get("location"),
            "InputFormat": parameters.get("inputformat"),
            "SerdeInfo": {"SerializationLibrary": parameters.get("serde.serialization.lib")},
        },
    }


def _lf_pairs(lf_tags: list[dict[str, Any]] | None) -> dict[str, str]:
    """Lake Formation ``[{TagKey, TagValues}]`` -> ``{key: "v1,v2"}``."""
    return {t["TagKey"]: ",".join(t.get("TagValues") or []) for t in lf_tags or []}


def table_from_arn(arn: str, account: str | None = None) -> tuple[str, str] | None:
    """``arn:aws:glue:region:account:table/db/table`` -> (db, table); None for other ARNs."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or (account and parts[4] != account):
        return None
    kind, _, rest = parts[5].partition("/")
    database, _, table = rest.partition("/")
    return (database, table) if kind == "table" and database and table else None


def _typed_connect_kwargs(values: dict[str, str]) -> dict[str, Any]:
    """Settings hold strings; PyAthena wants its declared bool/int/float types."""
    declared = inspect.signature(Connection.__init__).parameters
    typed: dict[str, Any] = {}
    for key, value in values.items():
        kind = declared[key].annotation if key in declared else None
        if kind is bool and isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"connection setting {key} must be true or false")
            typed[key] = value.lower() in ("true", "1", "yes")
        elif kind in (int, float) and isinstance(value, str):
            typed[key] = kind(value)
        else:
            typed[key] = value
    return typed
