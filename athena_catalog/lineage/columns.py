"""Column lineage of a query: qualify it once against the schema, then walk its scopes.

Every output column is traced in the same pass, with each scope's outputs memoised, instead
of one ``sqlglot.lineage`` call per column that re-qualifies the statement every time.
"""

from __future__ import annotations

import re
import sys
import time

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope

from athena_catalog.lineage.deadline import DeadlineExceeded
from athena_catalog.lineage.result import DIALECT, LineageSchema
from athena_catalog.names import column_ref, table_fqn

Deps = set[str]  # column refs: 'catalog.database.table.column', quoted where needed
JoinKey = tuple[str, str]  # two equated column refs, sorted
Output = tuple[str, Deps, bool]  # name, sources, whether it is a plain column pass-through

_UNNAMED = re.compile(r"_col_(\d+)")
_STAR_UNKNOWN = "unknown columns: SELECT * over a table not in the schema"


def lower_identifiers(expression: exp.Expr) -> None:
    """Athena folds every identifier, quoted or not, to lower case."""
    for ident in expression.find_all(exp.Identifier):
        if isinstance(ident.this, str):
            ident.set("this", ident.this.lower())


def table_name(table: exp.Table, catalog: str, database: str) -> str:
    """The fqn of a table reference, completed from the statement context."""
    return table_fqn(table.catalog or catalog, table.db or database, table.name)


def trace_query(
    query: exp.Query,
    schema: LineageSchema,
    catalog: str,
    database: str,
    deadline: float,
    *,
    outputs: bool = True,
) -> tuple[list[str], list[Deps], list[str], set[JoinKey]]:
    """(output names, sources of each output by position, problems, join keys) of a
    lower-cased query; with ``outputs=False`` only the join keys (reads need no more)."""
    bad_position = _bad_position(query)
    if bad_position:
        return [], [], [f"unresolved columns: {bad_position}"], set()
    try:
        qualified = qualify(
            query,
            dialect=DIALECT,
            schema=schema.mapping,
            catalog=catalog,
            db=database,
            expand_alias_refs=False,
            validate_qualify_columns=False,
            quote_identifiers=False,
            identify=False,
        )
    except SqlglotError as e:
        return [], [], [f"unresolved columns: {e}"], set()
    root = build_scope(qualified)
    if root is None:
        return [], [], ["unresolved columns: no query scope"], set()
    tracer = _Tracer(root, catalog, database, deadline)
    found = tracer.outputs(root) if outputs else []
    names = [_athena_name(name, i, qualified) for i, (name, _, _) in enumerate(found)]
    joins = tracer.joins(root)
    return names, [deps for _, deps, _ in found], sorted(set(tracer.problems)), joins


def _bad_position(query: exp.Query) -> str | None:
    """Why a ``GROUP BY`` / ``ORDER BY`` position is not in its select list, if one is not.
    Checked before qualification, which looks positions up as list indexes (0 silently
    picks the last column, a huge one overflows)."""
    for node in query.find_all(exp.Select, exp.SetOperation):
        selects = node.selects
        starred = any(_is_star(s) for s in selects)
        width = sys.maxsize if starred else len(selects)  # a * counts once it is expanded
        group, order = node.args.get("group"), node.args.get("order")
        keyed = [("GROUP BY", k) for k in group.expressions] if group else []
        keyed += [("ORDER BY", o.this) for o in order.expressions] if order else []
        for clause, key in keyed:
            # Digits compared as text first: int() refuses numbers of over 4,300 digits.
            if not isinstance(key, exp.Literal) or key.is_string:
                continue
            if not (key.name.isascii() and key.name.isdigit()):
                continue
            digits = key.name.lstrip("0")
            if not (0 < len(digits) <= 19 and int(digits) <= width):
                shown = key.name if len(key.name) <= 30 else f"{key.name[:27]}..."
                columns = "" if starred else f" of {width} column{'s' * (width != 1)}"
                return f"{clause} position {shown} is not in the select list{columns}"
    return None


def _is_star(projection: exp.Expr) -> bool:
    """``*`` or ``t.*`` as a whole projection (``count(*)`` is not)."""
    return isinstance(projection, exp.Star) or (
        isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
    )


def _athena_name(name: str, index: int, query: exp.Expr) -> str:
    """Athena names an unnamed output ``_colN``; sqlglot says ``_col_N`` or the literal."""
    if _UNNAMED.fullmatch(name):
        return f"_col{index}"
    select = query
    while isinstance(select, exp.SetOperation):
        select = select.this
    if isinstance(select, exp.Select) and index < len(select.selects):
        projection = select.selects[index]
        if isinstance(projection.unalias(), exp.Literal) and name == projection.unalias().name:
            return f"_col{index}"
    return name


class _Tracer:
    """Resolves output columns scope by scope; each scope's outputs are computed once."""

    def __init__(self, root: Scope, catalog: str, database: str, deadline: float):
        self.catalog, self.database, self.deadline = catalog, database, deadline
        self.scope_of: dict[int, Scope] = {id(s.expression): s for s in root.traverse()}
        self.memo: dict[int, list[Output]] = {}
        self.problems: list[str] = []

    def outputs(self, scope: Scope) -> list[Output]:
        key = id(scope)
        if key not in self.memo:
            if time.monotonic() > self.deadline:
                raise DeadlineExceeded
            self.memo[key] = self._outputs(scope)
        return self.memo[key]

    def _outputs(self, scope: Scope) -> list[Output]:
        expr = scope.expression
        if isinstance(expr, exp.SetOperation):
            # Each branch contributes by position; names come from the first branch. A set
            # operation's output is no single column's pass-through.
            branches = [self.outputs(s) for s in scope.set_operation_scopes]
            merged = [(name, set(deps), False) for name, deps, _ in branches[0]]
            for branch in branches[1:]:
                if len(branch) != len(merged):
                    self.problems.append("column count mismatch: set operation branches differ")
                for (_, deps, _), (_, more, _) in zip(merged, branch, strict=False):
                    deps |= more
            return merged
        if isinstance(expr, exp.Select):
            out = []
            for projection in expr.selects:
                if _is_star(projection):
                    self.problems.append(_STAR_UNKNOWN)
                    continue
                value = projection.unalias()
                if isinstance(value, exp.Column):
                    deps, exact = self._resolve(value, scope)
                else:
                    deps, exact = self.deps(projection, scope), False
                out.append((projection.alias_or_name, deps, exact))
            return out
        return []  # VALUES and table functions: no column sources

    def deps(self, node: exp.Expr, scope: Scope) -> Deps:
        found: Deps = set()
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, exp.Column):
                found |= self.resolve(n, scope)
            elif isinstance(n, (exp.Subquery, exp.Query)) and n is not node:
                inner = n.this if isinstance(n, exp.Subquery) else n
                child = self.scope_of.get(id(inner))
                if child is None:
                    stack.extend(n.iter_expressions())
                else:  # a scalar or IN subquery: its outputs feed this value
                    for _, deps, _ in self.outputs(child):
                        found |= deps
            else:
                stack.extend(n.iter_expressions())
        return found

    def resolve(self, column: exp.Column, scope: Scope) -> Deps:
        return self._resolve(column, scope)[0]

    def _resolve(self, column: exp.Column, scope: Scope) -> tuple[Deps, bool]:
        """The column's sources, and whether it is one base column passed through as is."""
        alias, name = column.table, column.name
        if name == "*":
            self.problems.append(_STAR_UNKNOWN)
            return set(), False
        walk: Scope | None = scope
        while walk is not None:
            sources = walk.sources
            if alias and alias in sources:
                return self._from_source(sources[alias], name)
            if column.db and column.db in sources:  # struct field: source.column.field
                return self._from_source(sources[column.db], alias)[0], False
            if not alias and len(sources) == 1:
                return self._from_source(next(iter(sources.values())), name)
            walk = walk.parent
        self.problems.append(f"unresolved column: {column.sql(dialect=DIALECT)}")
        return set(), False

    def _from_source(self, source: exp.Table | Scope, name: str) -> tuple[Deps, bool]:
        if isinstance(source, exp.Table):
            return {column_ref(table_name(source, self.catalog, self.database), name)}, True
        expr = source.expression
        if isinstance(expr, exp.Unnest):
            return self._unnested(source, expr, name), False
        if isinstance(expr, exp.Lateral):
            return self.deps(expr.this, source), False
        if isinstance(expr, exp.Values):
            return set(), False  # literal rows
        outputs = self.outputs(source)
        names = [c.lower() for c in source.outer_columns] or [n for n, _, _ in outputs]
        if name in names and names.index(name) < len(outputs):
            _, deps, exact = outputs[names.index(name)]
            return deps, exact
        self.problems.append(f"unresolved column: {name} not in a derived table")
        return set(), False

    def _unnested(self, scope: Scope, unnest: exp.Unnest, name: str) -> Deps:
        """An UNNEST output traces to the array (or map) it comes from; ordinality to none."""
        offset = unnest.args.get("offset")
        if isinstance(offset, exp.Identifier) and offset.name == name:
            return set()
        alias = unnest.args.get("alias")
        names = [c.name for c in alias.columns] if alias else []
        arrays = unnest.expressions
        if len(names) == len(arrays) and name in names:
            return self.deps(arrays[names.index(name)], scope)
        # UNNEST of an array of rows, or of a map, yields several columns per argument.
        found: Deps = set()
        for array in arrays:
            found |= self.deps(array, scope)
        return found

    # -- join keys

    def joins(self, root: Scope) -> set[JoinKey]:
        """Columns equated by JOIN ... ON (USING is already ON after qualification) and by
        WHERE across two sources of the same SELECT, as base columns. Only top-level AND-ed
        equalities of two plain columns count, each traced back only while it is a plain
        pass-through; anything unresolved is skipped silently (join keys are statistics,
        not lineage, so they add no problems)."""
        keep = len(self.problems)
        found: set[JoinKey] = set()
        for scope in root.traverse():
            select = scope.expression
            if not isinstance(select, exp.Select) or len(scope.sources) < 2:
                continue
            conditions = [j.args.get("on") for j in select.args.get("joins") or []]
            where = select.args.get("where")
            conditions.append(where.this if where is not None else None)
            for condition in conditions:
                for term in _conjuncts(condition):
                    pair = self._join_key(term, scope)
                    if pair is not None:
                        found.add(pair)
        del self.problems[keep:]
        return found

    def _join_key(self, term: exp.Expr, scope: Scope) -> JoinKey | None:
        if not isinstance(term, (exp.EQ, exp.NullSafeEQ)):
            return None
        left, right = term.this.unnest(), term.expression.unnest()
        if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
            return None
        sources = scope.sources
        if left.table == right.table or left.table not in sources or right.table not in sources:
            return None  # one source against itself, or a correlated outer column
        keys = []
        for column in (left, right):
            deps, exact = self._resolve(column, scope)
            if not exact or len(deps) != 1:
                return None
            keys.append(next(iter(deps)))
        a, b = sorted(keys)
        return a, b


def _conjuncts(condition: exp.Expr | None) -> list[exp.Expr]:
    """The top-level AND-ed terms of a condition, parentheses removed."""
    if condition is None:
        return []
    condition = condition.unnest()
    if isinstance(condition, exp.And):
        return [t for part in condition.flatten() for t in _conjuncts(part)]
    return [condition]
