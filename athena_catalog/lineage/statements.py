"""Statement routing: which table a statement writes, which it reads, and how its output
columns map onto the target's columns."""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import TokenError

from athena_catalog.lineage.columns import (
    Deps,
    Trace,
    lower_identifiers,
    table_name,
    trace_query,
)
from athena_catalog.lineage.deadline import DeadlineExceeded
from athena_catalog.lineage.result import DIALECT, LineageResult, LineageSchema
from athena_catalog.sql_text import find_unterminated, leading_keyword, parse_unload

# First keywords of statements that never carry lineage: answered without parsing.
_UTILITY = frozenset(
    [
        "show",
        "describe",
        "desc",
        "explain",
        "msck",
        "execute",
        "prepare",
        "deallocate",
        "use",
        "drop",
        "alter",
        "vacuum",
        "optimize",
        "grant",
        "revoke",
        "set",
        "reset",
        "start",
        "commit",
        "rollback",
        "analyze",
        "refresh",
        "comment",
    ]
)


class Malformed(ValueError):
    """The statement parsed, but into a shape no valid statement has (``INSERT INTO SELECT``):
    reported as a parse error naming the missing part."""


class Statement:
    """One statement under analysis, in its catalog/database context."""

    def __init__(self, schema: LineageSchema, catalog: str, database: str, deadline: float):
        self.schema, self.catalog, self.database = schema, catalog.lower(), database.lower()
        self.deadline = deadline

    def analyse(self, sql: str) -> LineageResult:
        word, end = leading_keyword(sql)  # raises Unterminated
        if end >= len(sql):
            return LineageResult(error="empty statement")  # only whitespace and comments
        word = word.lower()
        if word in _UTILITY:
            return LineageResult(statement="utility")
        if word == "unload":
            return self._unload(sql[end:])
        expression = _parse_one(sql)
        if isinstance(expression, LineageResult):
            return expression
        return self._route(expression)

    def _route(self, e: exp.Expr) -> LineageResult:
        if isinstance(e, exp.Query):
            result = LineageResult(sources=self._sources(e), statement="select")
            trace = self._trace(e, result)  # join keys and column roles
            if trace is not None:
                result.warnings = trace.problems
            return result
        if isinstance(e, exp.Create):
            return self._create(e)
        if isinstance(e, exp.Insert):
            target, listed = _target_and_columns(e.this, "INSERT INTO")
            return self._write(e, "insert", target, e.expression, listed)
        if isinstance(e, exp.Merge):
            return self._merge(e)
        if isinstance(e, exp.Update):
            return self._update(e)
        if isinstance(e, exp.Delete):
            return self._delete(e)
        if isinstance(e, (exp.Drop, exp.Alter, exp.Describe, exp.Use, exp.Command)):
            return LineageResult(statement="utility")
        return LineageResult(error=f"unsupported statement: {type(e).__name__}")

    # -- statements

    def _create(self, e: exp.Create) -> LineageResult:
        kind = (e.args.get("kind") or "").upper()
        if kind not in ("TABLE", "VIEW"):
            return LineageResult(statement="utility")  # CREATE DATABASE, FUNCTION ...
        target, listed = _target_and_columns(e.this, f"CREATE {kind}")
        query = e.expression
        if isinstance(query, exp.Query):
            return self._write(e, "view" if kind == "VIEW" else "ctas", target, query, listed)
        location = e.find(exp.LocationProperty)
        uri = location.this.name if location is not None else None
        return LineageResult(
            target=self._name(target),
            sources={uri} if uri else set(),
            statement="create_table",
        )

    def _write(
        self,
        e: exp.Expr,
        kind: str,
        target: exp.Table,
        query: exp.Expr | None,
        listed: list[str],
    ) -> LineageResult:
        """CTAS, views and INSERT: the query's outputs map onto the target's columns."""
        fqn = self._name(target)
        result = LineageResult(target=fqn, sources=self._sources(e, target), statement=kind)
        if isinstance(query, exp.Values) or (
            isinstance(query, exp.Subquery) and isinstance(query.this, exp.Values)
        ):
            return result  # literal rows: no column sources
        if not isinstance(query, exp.Query):
            result.error = "unsupported statement: no query to trace"
            return result
        trace = self._trace(query, result)
        if trace is None:
            return result
        if kind == "insert" and not listed:
            listed = self.schema.columns(fqn) or []
            if not listed:
                trace.problems.append(f"unknown target columns: {fqn} (INSERT maps by position)")
        self._assign(result, listed or trace.names, trace)
        return result

    def _merge(self, e: exp.Merge) -> LineageResult:
        """MERGE: the SET and INSERT clauses are traced as one SELECT over target JOIN source."""
        target = _target(e.this, "MERGE INTO")
        fqn = self._name(target)
        result = LineageResult(target=fqn, sources=self._sources(e, target), statement="merge")
        columns: list[str] = []
        values: list[exp.Expr] = []
        problems: list[str] = []
        whens = e.args.get("whens")
        for when in whens.expressions if whens else []:
            then = when.args.get("then")
            if isinstance(then, exp.Update):
                for assignment in then.expressions:
                    columns.append(assignment.this.name)
                    values.append(assignment.expression)
            elif isinstance(then, exp.Insert):
                row = then.expression.expressions if then.expression else []
                names = [c.name for c in then.this.expressions] if then.this else []
                names = names or self.schema.columns(fqn) or []
                if len(names) != len(row):
                    problems.append(f"unknown target columns: {fqn} (INSERT maps by position)")
                    continue
                columns += names
                values += row
        outputs = [exp.alias_(v.copy(), f"_v{i}") for i, v in enumerate(values)]
        select = exp.select(*(outputs or [exp.alias_(exp.Literal.number(1), "_v")]))
        on = e.args.get("on")
        select = select.from_(target.copy()).join(
            e.args["using"].copy(), on=on.copy() if on else None
        )
        trace = self._trace(select, result)  # join keys: the ON of target and source
        if trace is None:
            return result
        trace.problems += problems
        if values:
            self._assign(result, columns, trace)
        else:
            result.warnings = sorted(set(trace.problems))
        return result

    def _update(self, e: exp.Update) -> LineageResult:
        target = _target(e.this, "UPDATE")
        fqn = self._name(target)
        result = LineageResult(target=fqn, sources=self._sources(e, target), statement="update")
        assignments = e.expressions
        select = exp.select(
            *(exp.alias_(a.expression.copy(), f"_v{i}") for i, a in enumerate(assignments))
        ).from_(target.copy())
        trace = self._trace(_filtered(select, e), result)
        if trace is not None:
            self._assign(result, [a.this.name for a in assignments], trace)
        return result

    def _delete(self, e: exp.Delete) -> LineageResult:
        """No column lineage; its WHERE, traced as a SELECT, gives the columns it filters on."""
        target = _target(e.this, "DELETE FROM")
        result = LineageResult(
            target=self._name(target), sources=self._sources(e, target), statement="delete"
        )
        if e.args.get("where") is not None:
            trace = self._trace(_filtered(exp.select("1").from_(target.copy()), e), result)
            if trace is not None:
                result.warnings = trace.problems
        return result

    def _unload(self, rest: str) -> LineageResult:
        """UNLOAD (query) TO 's3://...' WITH (...): sqlglot keeps it as an opaque command."""
        unload = parse_unload(rest)
        if unload is None or unload.location is None:
            return LineageResult(
                error="unsupported statement: UNLOAD without (query) TO 's3://...'"
            )
        uri = unload.location
        query = _parse_one(unload.query)
        if isinstance(query, LineageResult) or not isinstance(query, exp.Query):
            error = query.error if isinstance(query, LineageResult) else None
            return LineageResult(
                target=uri, error=error or "unsupported statement: UNLOAD of a non-query"
            )
        result = LineageResult(target=uri, sources=self._sources(query), statement="unload")
        trace = self._trace(query, result)
        if trace is not None:
            self._assign(result, trace.names, trace)
        return result

    # -- helpers

    def _trace(self, query: exp.Query, result: LineageResult) -> Trace | None:
        """The query's columns, join keys and roles (set on ``result``); None, with a warning
        saying why, when column analysis failed: the tables already found always stay."""
        try:
            trace = trace_query(query, self.schema, self.catalog, self.database, self.deadline)
        except DeadlineExceeded:
            result.warnings.append("timeout: columns not analysed in time")
            return None
        except RecursionError:
            result.warnings.append("too deeply nested: columns hit the recursion limit")
            return None
        except Exception as e:  # a bug or an unforeseen shape costs the columns only
            shown = str(e).strip().splitlines()[0][:300] if str(e).strip() else ""
            result.warnings.append(f"internal error: columns: {type(e).__name__}: {shown}")
            return None
        result.joins = frozenset(trace.joins)
        result.roles = {ref: frozenset(roles) for ref, roles in trace.roles.items()}
        return trace

    @staticmethod
    def _assign(result: LineageResult, columns: list[str], trace: Trace) -> None:
        deps: list[Deps] = trace.deps
        problems = list(trace.problems)
        if len(columns) != len(deps):
            problems.append(f"column count mismatch: {len(deps)} values, {len(columns)} columns")
        else:
            for column, sources in zip(columns, deps, strict=True):
                result.columns.setdefault(column.lower(), set()).update(sources)
        result.warnings = sorted(set(problems))

    def _name(self, table: exp.Table) -> str:
        return table_name(table, self.catalog, self.database)

    def _sources(self, e: exp.Expr, target: exp.Expr | None = None) -> set[str]:
        """Every table the statement reads: all table references but the target and CTEs."""
        ctes = {cte.alias for cte in e.find_all(exp.CTE)}
        found = set()
        for table in e.find_all(exp.Table):
            if table is target or not isinstance(table.this, exp.Identifier):
                continue
            if not table.db and table.name in ctes:
                continue
            found.add(self._name(table))
        return found


def _parse_one(sql: str) -> exp.Expr | LineageResult:
    """The single statement of ``sql`` with identifiers lower-cased, or why there is none."""
    try:
        parsed = [e for e in sqlglot.parse(sql, dialect=DIALECT) if e is not None]
    except TokenError:
        problem = find_unterminated(sql)  # says which quote or comment, and where
        if problem is None:
            raise
        raise problem from None
    if len(parsed) != 1:
        return LineageResult(
            error=f"several statements: {len(parsed)}" if parsed else "empty statement"
        )
    lower_identifiers(parsed[0])
    return parsed[0]


def _filtered(select: exp.Select, statement: exp.Expr) -> exp.Select:
    """``select`` with the WHERE of an UPDATE or DELETE, for the columns it filters on."""
    where = statement.args.get("where")
    return select.where(where.this.copy()) if isinstance(where, exp.Where) else select


def _target_and_columns(node: exp.Expr | None, statement: str) -> tuple[exp.Table, list[str]]:
    """``t`` or ``t (a, b)``: the target table and the listed columns, if any."""
    if isinstance(node, exp.Schema):
        columns = [c.name for c in node.expressions if isinstance(c, exp.Identifier)]
        return _target(node.this, statement), columns
    return _target(node, statement), []


def _target(node: exp.Expr | None, statement: str) -> exp.Table:
    """The table a statement writes; sqlglot also accepts ``INSERT INTO SELECT ...``, taking
    the query for the target, or ``INSERT INTO (a, b) ...``."""
    if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Identifier):
        raise Malformed(f"{statement} has no target table")
    return node
