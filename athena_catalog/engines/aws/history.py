"""Athena query history for the ``aws`` engine: work groups, executions newest first, the
sensor's cheap mark.

ListQueryExecutions is throttled at about 5 requests/s per account, so every listing call
goes through one ``Pacer``; executions come 50 a call from BatchGetQueryExecution, or one
GetQueryExecution each where an endpoint lacks BatchGet (a warning, once per engine).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from athena_catalog.batching import chunks
from athena_catalog.engines.contract import StoredTimes
from athena_catalog.engines.query_execution import query_execution_from_api
from athena_catalog.engines.records import (
    DEFAULT_WORK_GROUP,
    EngineError,
    HistoryReadNotes,
    QueryExecution,
    UnreadableExecution,
    WorkGroups,
)
from athena_catalog.engines.retry import ACCESS_DENIED, RETRYABLE_CODES, RetryPolicy, error_code

log = logging.getLogger(__name__)

ATHENA_PAGE = 50
# ListQueryExecutions is throttled at about 5 requests/s per account: stay under it.
HISTORY_LISTINGS_PER_SECOND = 4.0
BATCH_GET_LIMIT = 50  # ids per BatchGetQueryExecution
# What a server that lacks an action answers (moto: HTTP 500 with an HTML page, code "500").
NOT_IMPLEMENTED_CODES = frozenset({"NotImplemented", "NotImplementedException", "InvalidAction"})

Call = Callable[..., dict[str, Any]]
Pages = Callable[..., Iterator[dict[str, Any]]]


class AthenaHistory:
    """The history half of the aws engine, on its Athena client and retry policy."""

    def __init__(
        self, athena: Any, call: Call, pages: Pages, retry: RetryPolicy, work_group: str | None
    ):
        self.athena, self._call, self._pages, self._retry = athena, call, pages, retry
        self.configured_work_group = work_group or DEFAULT_WORK_GROUP
        self._pacer = Pacer(HISTORY_LISTINGS_PER_SECOND)
        athena.meta.events.register("before-call.athena.ListQueryExecutions", self._pacer.wait)
        self.batch_get_supported = True
        self.calls_fallback = 0  # GetQueryExecution calls made instead of BatchGet

    def list_work_groups(self, read_before: Collection[str] = ()) -> WorkGroups:
        """Enabled work groups; the configured one when the listing is denied; those read
        before plus the configured one when it is throttled past the retry budget."""
        try:
            names = [
                summary["Name"]
                for page in self._pages(self.athena, "list_work_groups", "NextToken")
                for summary in page["WorkGroups"]
                if summary.get("State", "ENABLED") == "ENABLED"
            ]
        except EngineError as exc:
            if exc.code in ACCESS_DENIED:
                note = f"{exc}; reading work group {self.configured_work_group} only"
                log.warning(note)
                return WorkGroups((self.configured_work_group,), note=note)
            if exc.code in RETRYABLE_CODES:
                fallback = tuple(sorted(set(read_before) | {self.configured_work_group}))
                note = f"{exc}; reading the work groups read before: {', '.join(fallback)}"
                return WorkGroups(fallback, note=note, throttled=True)
            raise
        return WorkGroups(tuple(names))

    def query_executions(
        self, work_group: str, since: datetime, stored: StoredTimes
    ) -> Iterator[QueryExecution | UnreadableExecution]:
        """Executions of ``work_group``, page by page, newest first, down to ``since``.

        Ids of a page already stored are not fetched again. Paging stops after the first
        page holding an execution submitted before ``since`` (by date, not page count).
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

    def mark(self, work_group: str) -> str | None:
        """A digest of the first ListQueryExecutions page (newest ids): one call; any new
        execution changes it."""
        page = self._call(
            self.athena, "list_query_executions", WorkGroup=work_group, MaxResults=ATHENA_PAGE
        )
        ids = list(page.get("QueryExecutionIds") or [])
        return hashlib.sha1("\n".join(sorted(ids)).encode()).hexdigest() if ids else None

    def notes(self) -> HistoryReadNotes:
        if self.batch_get_supported:
            return HistoryReadNotes(self.calls_fallback)
        note = (
            "BatchGetQueryExecution is not implemented by the endpoint: read each query"
            f" with GetQueryExecution ({self.calls_fallback} calls)"
        )
        return HistoryReadNotes(self.calls_fallback, (note,))

    def _get_query_executions(
        self, ids: Sequence[str]
    ) -> Iterator[QueryExecution | UnreadableExecution]:
        """BatchGetQueryExecution, 50 ids a call; GetQueryExecution per id where BatchGet is
        not implemented (a warning, once per engine) and for ids BatchGet left unprocessed."""
        for batch in chunks(ids, BATCH_GET_LIMIT):
            if self.batch_get_supported:
                try:
                    answer = self._retry.call(
                        "athena:BatchGetQueryExecution",
                        self.athena.meta.endpoint_url,
                        functools.partial(_batch_get, self.athena, batch),
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
            self.calls_fallback += 1
        try:
            answer = self._call(self.athena, "get_query_execution", QueryExecutionId=query_id)
        except EngineError as exc:
            if exc.code not in ("InvalidRequestException", "ResourceNotFoundException"):
                raise
            return UnreadableExecution(query_id, "not_found", str(exc))
        return query_execution_from_api(answer.get("QueryExecution") or {})


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
