"""The ``aws`` engine: Glue and Athena listings in bulk, queries through PyAthena.

Every listing is one AWS call per page (Glue GetTables returns whole tables with columns), never
one per table, and every page is retried on its own under ``RetryPolicy``. Clients come from the
caller's boto3 Session, so credentials, profiles and assumed roles stay the resource's business.
Query history is ``AthenaHistory``; Glue structures become records in ``glue_mapping``.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Collection, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from typing import Any

import boto3
import pyathena
import sqlalchemy
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pyathena.async_cursor import AsyncCursor
from pyathena.connection import Connection
from pyathena.error import Error as PyAthenaError
from pyathena.result_set import AthenaResultSet

from athena_catalog.engines.aws.glue_mapping import (
    GLUE,
    estimates_from_parameters,
    glue_shape,
    is_default_catalog,
    lf_pairs,
    table_from_arn,
    table_from_glue,
)
from athena_catalog.engines.aws.history import AthenaHistory
from athena_catalog.engines.aws.settings import (
    USER_AGENT,
    AwsSettings,
    tls_kwargs,
    typed_connect_kwargs,
)
from athena_catalog.engines.contract import StoredTimes
from athena_catalog.engines.listing import Listed, ListedTags
from athena_catalog.engines.read_only import marked_select
from athena_catalog.engines.records import (
    DEFAULT_CATALOG,
    Database,
    DataCatalog,
    EngineError,
    HistoryReadNotes,
    QueryExecution,
    QueryResult,
    Table,
    TableEstimates,
    UnreadableExecution,
    WorkGroups,
)
from athena_catalog.engines.retry import ACCESS_DENIED, RetryPolicy, error_code
from athena_catalog.engines.sqlalchemy_dialect import catalog_sqlalchemy_engine

log = logging.getLogger(__name__)

CANCEL_WAIT_S = 30.0  # how long a timed-out SELECT waits for Athena to confirm its stop
# Largest page each listing call accepts.
GLUE_PAGE = 100
ATHENA_PAGE = 50
TAGGING_PAGE = 100
LF_TAGS_PAGE = 1000  # ListLFTags
LF_SEARCH_PAGE = 100  # SearchTablesByLFTags
LF_SEARCH_VALUES = 50  # most TagValues one SearchTablesByLFTags expression accepts


class AwsEngine:
    """Engine over Glue, Athena, the Resource Groups Tagging API and Lake Formation.

    ``glue``, ``athena``, ``tagging``, ``lakeformation`` and ``s3`` are the boto3 clients,
    public so callers can hook ``client.meta.events`` (call counting, fault injection) or
    attach a botocore Stubber.
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
        self._tls = tls_kwargs(settings)
        self.glue = self._client("glue")
        self.athena = self._client("athena")
        self.tagging = self._client("resourcegroupstaggingapi")
        self.lakeformation = self._client("lakeformation")
        self.s3 = self._client("s3")  # read only: ListObjectsV2 for the cost guard
        self._retry = RetryPolicy(
            max_seconds=settings.retry_max_seconds, base_delay=settings.retry_base_delay
        )
        self._connect_kwargs = {
            **typed_connect_kwargs(settings.connection_options),
            **typed_connect_kwargs(settings.connection_arguments),
        }
        self._catalogs: dict[str, DataCatalog] = {}
        self._lf_tags_unreadable: set[str] = set()  # catalogs already warned about, lowercased
        self._lf_lock = threading.Lock()
        # boto3 Sessions are not thread-safe; PyAthena builds clients from ours per query.
        self._session_lock = threading.Lock()
        self.history = AthenaHistory(
            self.athena, self._call, self._pages, self._retry, settings.work_group
        )
        self._selects: dict[str, tuple[Connection[Any], Future[Any]]] = {}

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
        if not any(is_default_catalog(name) for name in names):
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
        if is_default_catalog(name):
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
        if is_default_catalog(catalog.name):
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

    def list_tables(self, catalog: str, database: str) -> Listed[Table]:
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
            return Listed(
                table_from_glue(dc.name, database, found)
                for page in pages
                for found in page["TableList"]
            )
        pages = self._pages(
            self.athena,
            "list_table_metadata",
            "NextToken",
            CatalogName=dc.name,
            DatabaseName=database,
            MaxResults=ATHENA_PAGE,
        )
        return Listed(
            table_from_glue(dc.name, database, glue_shape(found))
            for page in pages
            for found in page["TableMetadataList"]
        )

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
                            **lf_pairs(tagged.get("LFTagOnDatabase")),
                            **lf_pairs(tagged.get("LFTagsOnTable")),
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

    def _connect(
        self,
        *,
        catalog: str | None = None,
        database: str | None = None,
        work_group: str | None = None,
        **extra: Any,
    ) -> Connection[Any]:
        """A PyAthena connection on this engine's Session, settings and TLS options."""
        settings = self.settings
        kwargs: dict[str, Any] = {
            **self._connect_kwargs,
            **self._tls,
            **extra,
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
        with self._session_lock:
            return pyathena.connect(**kwargs)

    def _query_error(self, exc: Exception, work_group: str | None) -> EngineError:
        where = f"work group {work_group or self.settings.work_group or '(default)'}"
        return EngineError(
            f"Athena query failed in {where}: {exc}",
            code=error_code(exc),
            operation="athena:StartQueryExecution",
        )

    def execute(
        self,
        sql: str,
        *,
        catalog: str | None = None,
        database: str | None = None,
        work_group: str | None = None,
    ) -> QueryResult:
        """Run one statement through PyAthena on this engine's Session and wait for its rows."""
        try:
            connection = self._connect(catalog=catalog, database=database, work_group=work_group)
            with connection, connection.cursor() as cursor:
                cursor.execute(sql)
                columns = tuple(d[0] for d in cursor.description or ())
                rows = [tuple(row) for row in cursor.fetchall()]
                return QueryResult(
                    columns=columns,
                    rows=rows,
                    query_id=cursor.query_id,
                    bytes_scanned=cursor.data_scanned_in_bytes,
                )
        except (PyAthenaError, ClientError, BotoCoreError) as exc:
            raise self._query_error(exc, work_group) from exc

    def start_select(
        self,
        sql: str,
        *,
        catalog: str | None = None,
        database: str | None = None,
        work_group: str | None = None,
    ) -> str:
        """StartQueryExecution now; PyAthena's AsyncCursor polls it in the background."""
        marked = marked_select(sql)
        try:
            connection = self._connect(
                catalog=catalog, database=database, work_group=work_group, cursor_class=AsyncCursor
            )
            query_id, future = connection.cursor().execute(marked)
        except (PyAthenaError, ClientError, BotoCoreError) as exc:
            raise self._query_error(exc, work_group) from exc
        self._selects[query_id] = (connection, future)
        return query_id

    def select_result(self, query_id: str, *, timeout_s: float | None = None) -> QueryResult:
        connection, future = self._selects.pop(query_id)
        with connection:
            try:
                result_set: AthenaResultSet = future.result(timeout=timeout_s)
            except FutureTimeout:
                self.cancel(query_id)
                try:
                    result_set = future.result(timeout=CANCEL_WAIT_S)
                except FutureTimeout:
                    raise EngineError(
                        f"CANCELLED: query {query_id}: stopped after {timeout_s}s, not yet"
                        f" confirmed by Athena",
                        code="CANCELLED",
                    ) from None
            except (PyAthenaError, ClientError, BotoCoreError) as exc:
                # A cancel can overtake the result fetch ("not yet finished ... CANCELLED"):
                # the execution's own state says what happened.
                ended = self._ended_state(query_id)
                if ended:
                    raise EngineError(f"{ended}: query {query_id}: {exc}", code=ended) from exc
                raise self._query_error(exc, None) from exc
            state = result_set.state or "FAILED"
            if state != "SUCCEEDED":
                reason = result_set.state_change_reason or result_set.error_message or state
                raise EngineError(f"{state}: query {query_id}: {reason}", code=state)
            columns = tuple(d[0] for d in result_set.description or ())
            rows = [tuple(row) for row in result_set.fetchall()]
        return QueryResult(
            columns=columns,
            rows=rows,
            query_id=query_id,
            bytes_scanned=result_set.data_scanned_in_bytes,
        )

    def _ended_state(self, query_id: str) -> str | None:
        """CANCELLED or FAILED when the execution ended so, else None (also when unreadable)."""
        try:
            found = self._call(self.athena, "get_query_execution", QueryExecutionId=query_id)
        except EngineError:
            return None
        state = found["QueryExecution"]["Status"]["State"]
        return state if state in ("CANCELLED", "FAILED") else None

    def cancel(self, query_id: str) -> None:
        self._call(self.athena, "stop_query_execution", QueryExecutionId=query_id)

    def table_estimates(self, catalog: str, database: str, table: str) -> TableEstimates:
        """What Glue's table parameters (numRows, recordCount, totalSize, sizeKey) state."""
        return estimates_from_parameters(self._glue_table(catalog, database, table)[0])

    def _glue_table(self, catalog: str, database: str, table: str) -> tuple[dict[str, str], str]:
        """The table's parameters and S3 location ("" for none), in Glue's shape."""
        dc = self._catalog(catalog)
        if dc.type == GLUE:
            found = self._call(
                self.glue,
                "get_table",
                DatabaseName=database,
                Name=table,
                **self._catalog_id(dc),
            )["Table"]
        else:
            found = glue_shape(
                self._call(
                    self.athena,
                    "get_table_metadata",
                    CatalogName=dc.name,
                    DatabaseName=database,
                    TableName=table,
                )["TableMetadata"]
            )
        location = (found.get("StorageDescriptor") or {}).get("Location") or ""
        return dict(found.get("Parameters") or {}), location

    def scan_estimates(
        self, catalog: str, database: str, table: str, partition_filter: str | None = None
    ) -> TableEstimates:
        """Glue's size parameters, else a ListObjectsV2 listing of the location; with a filter,
        of each partition GetPartitions selects (off Glue, the table's parameters only)."""
        dc = self._catalog(catalog)
        parameters, location = self._glue_table(catalog, database, table)
        if partition_filter is None or dc.type != GLUE:
            stated = estimates_from_parameters(parameters)
            if stated.size_bytes is not None or not location:
                return stated
            return TableEstimates(
                stated.row_count, self._s3_bytes(location), f"s3 listing of {location}"
            )
        partitions = [
            (estimates_from_parameters(dict(p.get("Parameters") or {})), p)
            for page in self._pages(
                self.glue,
                "get_partitions",
                "NextToken",
                DatabaseName=database,
                TableName=table,
                Expression=partition_filter,
                **self._catalog_id(dc),
            )
            for p in page["Partitions"]
        ]
        rows = [stated.row_count for stated, _ in partitions]
        if all(stated.size_bytes is not None for stated, _ in partitions):
            size = sum(stated.size_bytes or 0 for stated, _ in partitions)
            source = f"glue parameters of {len(partitions)} partitions"
        else:
            size = sum(
                self._s3_bytes((p.get("StorageDescriptor") or {}).get("Location") or "")
                for _, p in partitions
            )
            source = f"s3 listing of {len(partitions)} partition prefixes"
        row_count = None if None in rows else sum(r or 0 for r in rows)
        return TableEstimates(row_count, size, source)

    def _s3_bytes(self, location: str) -> int:
        """Bytes of the objects under an s3:// prefix, one ListObjectsV2 call per 1000 keys."""
        if not location.startswith(("s3://", "s3a://")):
            raise EngineError(f"not an S3 location: {location!r}", operation="s3:ListObjectsV2")
        bucket, _, prefix = location.split("://", 1)[1].partition("/")
        prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        total, token = 0, None
        while True:
            page = self._call(
                self.s3,
                "list_objects_v2",
                Bucket=bucket,
                Prefix=prefix,
                **({"ContinuationToken": token} if token else {}),
            )
            total += sum(obj.get("Size", 0) for obj in page.get("Contents", []))
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return total

    def sqlalchemy_engine(self, catalog: str = DEFAULT_CATALOG) -> sqlalchemy.Engine:
        """PyAthena's ``awsathena`` dialect on this engine's Session and settings, reflecting
        through Glue's listings (``engines.sqlalchemy_dialect``)."""
        return catalog_sqlalchemy_engine(self, functools.partial(self._connect, catalog=catalog))

    # -- query history -----------------------------------------------------------------------

    def list_work_groups(self, read_before: Collection[str] = ()) -> WorkGroups:
        return self.history.list_work_groups(read_before)

    def history_start(self, cursor: datetime | None, floor: datetime) -> datetime:
        """From the cursor (Athena never adds an execution before one it listed), else the
        lookback floor."""
        return cursor or floor

    def query_executions(
        self, work_group: str, since: datetime, stored: StoredTimes
    ) -> Iterator[QueryExecution | UnreadableExecution]:
        return self.history.query_executions(work_group, since, stored)

    def history_mark(self, work_group: str) -> str | None:
        return self.history.mark(work_group)

    def history_read_notes(self) -> HistoryReadNotes:
        return self.history.notes()

    def close(self) -> None:
        for client in (self.glue, self.athena, self.tagging, self.lakeformation, self.s3):
            client.close()
