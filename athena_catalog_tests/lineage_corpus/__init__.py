"""The lineage accuracy corpus: hand-checked Athena statements and a scorer.

Each YAML file is a list of cases (``id``, ``sql``, optional ``catalog`` / ``database``,
``target``, ``sources``, ``columns``, and optional ``joins``: the pairs of columns the
statement equates as join keys, ``[[a.x, b.y], ...]``; cases without it are not scored on
joins; optional ``warnings``: the exact warnings the parser must report; optional ``roles``:
``{column: [select, filter, join, group, order]}``, how the statement uses each base column);
``schema.yaml`` is the catalog they run against. Expected names may be abbreviated;
:func:`load_cases` completes them from the case's context (tables: 1-3 parts, columns: 2-4
parts), so the parser's own resolution is never used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from athena_catalog.lineage import LineageResult, LineageSchema, parse_lineage
from athena_catalog.lineage.result import is_s3

HERE = Path(__file__).parent
DEFAULT_CATALOG = "awsdatacatalog"
DEFAULT_DATABASE = "sales"


@dataclass(frozen=True)
class Case:
    id: str
    sql: str
    catalog: str
    database: str
    target: str | None
    sources: frozenset[str]
    columns: dict[str, frozenset[str]]
    joins: frozenset[tuple[str, str]] | None = None  # None: not scored on joins
    warnings: tuple[str, ...] | None = None  # None: not checked
    roles: dict[str, frozenset[str]] | None = None  # None: not checked


def load_schema() -> LineageSchema:
    raw = yaml.safe_load((HERE / "schema.yaml").read_text())
    return LineageSchema(
        {t: {str(c): str(ty) for c, ty in cols.items()} for t, cols in raw.items()}
    )


def load_cases(files: list[str] | None = None) -> list[Case]:
    """Every case, or those of the named files (``recall.yaml``)."""
    cases = []
    for path in sorted(HERE.glob("*.yaml")):
        if path.name == "schema.yaml" or (files and path.name not in files):
            continue
        for raw in yaml.safe_load(path.read_text()):
            cases.append(_case(raw))
    return cases


def _case(raw: dict[str, Any]) -> Case:
    catalog = raw.get("catalog", DEFAULT_CATALOG)
    database = raw.get("database", DEFAULT_DATABASE)

    def table(name: str) -> str:
        if is_s3(name):
            return name
        parts = name.split(".")
        return ".".join([catalog, database][: 3 - len(parts)] + parts).lower()

    def column(name: str) -> str:
        owner, col = name.rsplit(".", 1)
        return f"{table(owner)}.{col.lower()}"

    target = raw.get("target")
    joins = raw.get("joins")
    warnings = raw.get("warnings")
    roles = raw.get("roles")
    return Case(
        id=raw["id"],
        sql=raw["sql"],
        catalog=catalog,
        database=database,
        target=table(target) if target else None,
        sources=frozenset(table(s) for s in raw.get("sources", [])),
        columns={
            str(k).lower(): frozenset(column(d) for d in v)
            for k, v in (raw.get("columns") or {}).items()
        },
        joins=None
        if joins is None
        else frozenset(tuple(sorted((column(a), column(b)))) for a, b in joins),
        warnings=None if warnings is None else tuple(warnings),
        roles=None
        if roles is None
        else {column(c): frozenset(str(r) for r in used) for c, used in roles.items()},
    )


def analyse(case: Case, schema: LineageSchema) -> LineageResult:
    return parse_lineage(case.sql, case.catalog, case.database, schema)


@dataclass
class Score:
    """Micro-averaged precision and recall over (target, source) and column edge pairs."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, case_id: str, expected: set[tuple[str, ...]], got: set[tuple[str, ...]]) -> None:
        self.tp += len(expected & got)
        self.fp += len(got - expected)
        self.fn += len(expected - got)
        if expected != got:
            self.misses.append(case_id)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def table_pairs(target: str | None, sources: frozenset[str] | set[str]) -> set[tuple[str, ...]]:
    """Table lineage as edges; a read has the pseudo-target ``<read>`` so its sources count."""
    return {(s, target or "<read>") for s in sources} | (
        {("<target>", target)} if target else set()
    )


def column_pairs(columns: dict[str, Any]) -> set[tuple[str, ...]]:
    return {(c, d) for c, deps in columns.items() for d in deps} | {(c, "") for c in columns}


def score(cases: list[Case], schema: LineageSchema) -> tuple[Score, Score, Score]:
    """Table, column and join-key scores; joins over the cases that state them."""
    tables, columns, joins = Score(), Score(), Score()
    for case in cases:
        got = analyse(case, schema)
        tables.add(
            case.id, table_pairs(case.target, case.sources), table_pairs(got.target, got.sources)
        )
        columns.add(case.id, column_pairs(case.columns), column_pairs(got.columns))
        if case.joins is not None:
            joins.add(case.id, set(case.joins), set(got.joins))
    return tables, columns, joins
