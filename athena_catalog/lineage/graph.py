"""The lineage graph from query history and view definitions: plain Python, no store.

Statements are grouped by fingerprint; each distinct one is parsed once (or found in the
parse cache, or in the run's memo in front of it), on several processes when there are many,
and every execution then adds its edges with its own time and query id.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from athena_catalog.lineage.fingerprint import fingerprint
from athena_catalog.lineage.parser import DEFAULT_TIMEOUT_S, parse_lineage
from athena_catalog.lineage.result import LineageResult, LineageSchema, is_s3
from athena_catalog.names import split_column_ref, sql_name
from athena_catalog.store.lineage import Edges, EdgeStats, ViewDefinition

PARALLEL_MIN = 400  # fewer misses than this are parsed in-process: spawning costs ~1 s
_CHUNK = 64
MEMO_SIZE = 20_000  # parsed results a run keeps in memory in front of the store's cache

# Fingerprints handed to the parser (cache misses) in this process, in-process or to workers:
# what "one parse per distinct statement" is measured by.
parse_counts: Counter[str] = Counter()

# Reads cached parses for a set of fingerprints (the store's parse cache in the asset).
CacheReader = Callable[[set[str]], Mapping[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class HistoryStatement:
    query_id: str
    query: str
    catalog: str | None
    database: str | None
    submitted_at: datetime


@dataclass
class LineageBatch:
    """Edges of one batch of statements (or of all views), and what happened to each."""

    table_edges: Edges = field(default_factory=dict)
    column_edges: Edges = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)  # query id -> outcome
    fingerprints: dict[str, str] = field(default_factory=dict)  # query id -> fingerprint
    cache_rows: list[dict[str, Any]] = field(default_factory=list)  # new parse cache rows
    views: dict[str, LineageResult] = field(default_factory=dict)  # view fqn -> its parse
    parsed: int = 0
    cache_hits: int = 0

    def add(self, result: LineageResult, kind: str, stats: EdgeStats) -> None:
        """Edges of one analysed statement; S3 edges are kind ``s3`` whatever produced them.

        Identity edges (a column from the same column of the same table: ``INSERT INTO t
        SELECT * FROM t``, ``MERGE INTO t USING t s ... SET a = s.a``, ``UPDATE t SET a = a``)
        carry no lineage and are left out, as is the table's edge to itself when only they
        made it. Real dependencies within a table stay: ``UPDATE t SET a = b * 2`` keeps
        ``t.b -> t.a``, and a self-read whose columns are unknown keeps ``t -> t``."""
        target = result.target
        if target is None:
            return
        columns = [
            (*split_column_ref(dep), column)
            for column, deps in result.columns.items()
            for dep in deps
        ]
        from_itself = [(source, column) for table, source, column in columns if table == target]
        only_identity = bool(from_itself) and all(s == c for s, c in from_itself)
        for source in result.sources:
            if source == target and only_identity:
                continue
            edge_kind = "s3" if is_s3(source) or is_s3(target) else kind
            _add(self.table_edges, (source, target, edge_kind), stats)
        for table, source_column, column in columns:
            if table == target and source_column == column:
                continue
            edge_kind = "s3" if is_s3(target) else kind
            _add(self.column_edges, (table, source_column, target, column, edge_kind), stats)


def _add(edges: Edges, key: tuple[str, ...], stats: EdgeStats) -> None:
    if key in edges:
        edges[key].add(stats)
    else:
        edges[key] = EdgeStats(**vars(stats))


def outcome(result: LineageResult) -> str:
    """``ok``, ``no lineage`` (reads and utility statements), or the reason it fell short."""
    if result.error:
        return result.error.split(":", 1)[0]
    return "ok" if result.target else "no lineage"


class LineageAnalyser:
    """Parses distinct statements against one schema, through a parse cache."""

    def __init__(
        self,
        schema: LineageSchema,
        *,
        workers: int = 2,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        now: datetime | None = None,
    ):
        self.schema, self.workers, self.timeout_s = schema, workers, timeout_s
        self.now = now or datetime.now(UTC)
        # Results of this run, valid for its one schema: repeated shapes skip the store.
        self._memo: OrderedDict[str, LineageResult] = OrderedDict()

    def statements(
        self,
        statements: Iterable[HistoryStatement],
        read_cache: CacheReader,
        *,
        default_catalog: str = "awsdatacatalog",
        default_database: str = "default",
    ) -> LineageBatch:
        batch = LineageBatch()
        todo: dict[str, tuple[str, str, str]] = {}
        rows = []
        for s in statements:
            catalog = (s.catalog or default_catalog).lower()
            database = (s.database or default_database).lower()
            fp = fingerprint(s.query, catalog, database)
            batch.fingerprints[s.query_id] = fp
            rows.append((s, fp))
            todo.setdefault(fp, (s.query, catalog, database))
        results = self.results(todo, read_cache, batch)
        for s, fp in rows:
            result = results[fp]
            batch.outcomes[s.query_id] = outcome(result)
            batch.add(result, "query", EdgeStats(s.submitted_at, s.submitted_at, 1, s.query_id))
        return batch

    def views(self, views: Iterable[ViewDefinition], read_cache: CacheReader) -> LineageBatch:
        """View edges: each definition read as ``CREATE VIEW <view> AS <its SQL>``."""
        batch = LineageBatch()
        todo: dict[str, tuple[str, str, str]] = {}
        keyed = []
        for v in views:
            name = sql_name(v.catalog, v.database, v.name)
            sql = f"CREATE OR REPLACE VIEW {name} AS\n{v.sql}"
            fp = fingerprint(sql, v.catalog, v.database)
            keyed.append((v, fp))
            todo.setdefault(fp, (sql, v.catalog.lower(), v.database.lower()))
        results = self.results(todo, read_cache, batch)
        for v, fp in keyed:
            batch.views[v.fqn] = results[fp]
            batch.outcomes[v.fqn] = outcome(results[fp])
            batch.add(results[fp], "view", EdgeStats(v.first_seen, v.last_seen, 0, None))
        return batch

    def results(
        self,
        todo: Mapping[str, tuple[str, str, str]],
        read_cache: CacheReader,
        batch: LineageBatch,
    ) -> dict[str, LineageResult]:
        """The result per fingerprint of ``todo`` (``{fingerprint: (sql, catalog,
        database)}``): from the memo, else the cache while its schema digest holds, else
        parsed (new cache rows go to ``batch.cache_rows``)."""
        results: dict[str, LineageResult] = {}
        for fp in todo:
            if fp in self._memo:
                self._memo.move_to_end(fp)
                results[fp] = self._memo[fp]
        batch.cache_hits += len(results)
        cached = read_cache(set(todo) - set(results))
        misses = []
        for fp, item in todo.items():
            if fp in results:
                continue
            row = cached.get(fp)
            if row is not None and row["schema_version"] == self.schema.digest(row["tables"]):
                results[fp] = self._remember(fp, LineageResult.from_json(row["result"]))
                batch.cache_hits += 1
            else:
                misses.append((fp, *item))
        parse_counts.update(m[0] for m in misses)
        for fp, result in zip(
            (m[0] for m in misses), self._parse_all([m[1:] for m in misses]), strict=True
        ):
            results[fp] = self._remember(fp, result)
            tables = sorted(result.tables)
            batch.cache_rows.append(
                {
                    "fingerprint": fp,
                    "schema_version": self.schema.digest(tables),
                    "tables": tables,
                    "result": result.to_json(),
                    "parsed_at": self.now,
                }
            )
        batch.parsed += len(misses)
        return results

    def _remember(self, fp: str, result: LineageResult) -> LineageResult:
        self._memo[fp] = result
        if len(self._memo) > MEMO_SIZE:
            self._memo.popitem(last=False)
        return result

    def _parse_all(self, items: list[tuple[str, str, str]]) -> list[LineageResult]:
        if self.workers <= 1 or len(items) < PARALLEL_MIN:
            return [parse_lineage(*item, self.schema, timeout_s=self.timeout_s) for item in items]
        chunks = [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]
        with ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.schema.tables, self.timeout_s),
        ) as pool:
            return [
                LineageResult.from_json(r)
                for chunk in pool.map(_parse_chunk, chunks)
                for r in chunk
            ]


_worker: dict[str, Any] = {}


def _init_worker(tables: dict[str, dict[str, str]], timeout_s: float) -> None:
    _worker["schema"] = LineageSchema(tables)
    _worker["timeout_s"] = timeout_s


def _parse_chunk(items: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    schema, timeout_s = _worker["schema"], _worker["timeout_s"]
    return [parse_lineage(*item, schema, timeout_s=timeout_s).to_json() for item in items]
