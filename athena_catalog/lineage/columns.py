"""Column lineage and column usage of a query: qualify it once against the schema, then walk
its scopes.

Every output column is traced in the same pass, with each scope's outputs memoised, instead
of one ``sqlglot.lineage`` call per column that re-qualifies the statement every time. A
column that cannot be qualified costs only itself: qualification falls back to partial, then
to tables only, and the walk resolves what it still can (a single source, ``alias.col``, the
schema's columns) and reports the rest.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope

from athena_catalog.lineage.deadline import DeadlineExceeded
from athena_catalog.lineage.result import DIALECT, LineageSchema
from athena_catalog.names import column_ref, table_fqn

Deps = set[str]  # column refs: 'catalog.database.table.column', quoted where needed
JoinKey = tuple[str, str]  # two equated column refs, sorted
Output = tuple[str, Deps, bool]  # name, sources, whether it is a plain column pass-through

_STAR_UNKNOWN = "unknown columns: SELECT * over a table not in the schema"
# Marks set on the parsed tree before qualification (node meta survives it and copies):
_UNNAMED = "athena_unnamed"  # an output Athena names _colN
_ALIAS_REF = "athena_alias_ref"  # a column naming another output of its own SELECT
# Qualification, strictest first, as (allow partial qualification, qualify columns): a
# failure retries with the next; the last qualifies only the tables.
_QUALIFY_FALLBACKS = ((False, True), (True, True), (True, False))


@dataclass
class Trace:
    """What tracing a query found: outputs by position, problems, join keys, column roles."""

    names: list[str] = field(default_factory=list)
    deps: list[Deps] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    joins: set[JoinKey] = field(default_factory=set)
    roles: dict[str, set[str]] = field(default_factory=dict)


def lower_identifiers(expression: exp.Expr) -> None:
    """Athena folds every identifier, quoted or not, to lower case."""
    for ident in expression.find_all(exp.Identifier):
        if isinstance(ident.this, str):
            ident.set("this", ident.this.lower())


def table_name(table: exp.Table, catalog: str, database: str) -> str:
    """The fqn of a table reference, completed from the statement context."""
    return table_fqn(table.catalog or catalog, table.db or database, table.name)


def trace_query(
    query: exp.Query, schema: LineageSchema, catalog: str, database: str, deadline: float
) -> Trace:
    """Outputs (names and sources by position), problems, join keys and column roles of a
    lower-cased query. A query in parentheses, at any depth, is the query inside."""
    query, outer_orders = _unwrap(query)
    bad_position = _bad_position(query)
    if bad_position:
        return Trace(problems=[f"unresolved columns: {bad_position}"])
    _mark(query, schema, catalog, database)
    qualified, problems = _qualified(query, schema, catalog, database)
    root = build_scope(qualified) if qualified is not None else None
    if root is None:
        return Trace(problems=problems or ["unresolved columns: no query scope"])
    tracer = _Tracer(root, schema, catalog, database, deadline)
    found = tracer.outputs(root)
    joins = tracer.joins(root)
    names = [name for name, _, _ in found]
    roles = tracer.roles(root, found, names, outer_orders)
    return Trace(
        names=names,
        deps=[deps for _, deps, _ in found],
        problems=sorted(set(problems + tracer.problems)),
        joins=joins,
        roles=roles,
    )


def _unwrap(query: exp.Query) -> tuple[exp.Query, list[exp.Order]]:
    """``(SELECT ...)``, ``((SELECT ...))``: the query inside, with a WITH written outside the
    parentheses moved in, and the ORDER BY clauses written outside them."""
    orders = []
    while isinstance(query, exp.Subquery) and isinstance(query.this, exp.Query):
        order = query.args.get("order")
        if isinstance(order, exp.Order):
            orders.append(order)
        inner = query.this
        outer_with = query.args.get("with_")
        if outer_with is not None and inner.args.get("with_") is None:
            inner.set("with_", outer_with.copy())
        query = inner
    return query, orders


def _qualified(
    query: exp.Query, schema: LineageSchema, catalog: str, database: str
) -> tuple[exp.Expr | None, list[str]]:
    """The query qualified as fully as it allows, and what stopped full qualification. A
    retry runs on what the failed attempt left: qualification only completes names, so what
    it did before failing holds (and copying every statement in case would cost more)."""
    failure = None
    for partial, columns in _QUALIFY_FALLBACKS:
        try:
            query = qualify(
                query,
                dialect=DIALECT,
                schema=schema.mapping,
                catalog=catalog,
                db=database,
                expand_alias_refs=False,
                validate_qualify_columns=False,
                quote_identifiers=False,
                identify=False,
                allow_partial_qualification=partial,
                qualify_columns=columns,
            )
        except Exception as e:  # OptimizeError, or a qualifier bug on an odd shape
            failure = failure or _first_line(e)
            continue
        return query, [] if failure is None else [f"unresolved columns: {failure}"]
    return None, [f"unresolved columns: {failure}"]


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:300] if text else type(e).__name__


def _mark(query: exp.Query, schema: LineageSchema, catalog: str, database: str) -> None:
    """Before qualification, which names it loses: the outputs Athena names ``_colN`` (any
    expression but a column or a field), and columns naming another output of their SELECT
    that no source is known to have (``SELECT a || b AS x, x || c AS y``: not valid Trino,
    seen in logs)."""
    first = query
    while isinstance(first, (exp.SetOperation, exp.Subquery)):
        first = first.this
    if isinstance(first, exp.Select):
        for projection in first.selects:
            value = projection.unalias() if isinstance(projection, exp.Alias) else projection
            while isinstance(value, exp.Paren):
                value = value.this
            if not isinstance(projection, exp.Alias) and not isinstance(
                value, (exp.Column, exp.Dot, exp.Star)
            ):
                projection.meta[_UNNAMED] = True
    ctes = {
        cte.alias: _output_names(cte.this, cte.args.get("alias")) for cte in query.find_all(exp.CTE)
    }
    for select in query.find_all(exp.Select):
        order = {id(p): i for i, p in enumerate(select.selects)}
        aliases = {}
        for p in select.selects:
            # An alias whose own expression names a column of that name (a || b AS a) is
            # also a source column: a reference to it stays one, as in Trino.
            if (
                isinstance(p, exp.Alias)
                and p.alias
                and p.alias not in aliases
                and all(c.name != p.alias for c in p.this.find_all(exp.Column))
            ):
                aliases[p.alias] = p
        if not aliases:
            continue
        known = [_source_columns(s, schema, catalog, database, ctes) for s in _from_items(select)]
        for owner, column in _own_columns(select):
            name = column.name
            if column.table or name not in aliases:
                continue
            if owner is not None and order[id(aliases[name])] >= order[id(owner)]:
                continue  # an output names only those before it
            if not any(name in cols for cols in known if cols is not None):
                column.meta[_ALIAS_REF] = True


def _from_items(select: exp.Select) -> list[exp.Expr]:
    found = []
    source = select.args.get("from_")
    if isinstance(source, exp.From):
        found.append(source.this)
    found += [j.this for j in select.args.get("joins") or []]
    return found


def _source_columns(
    source: exp.Expr,
    schema: LineageSchema,
    catalog: str,
    database: str,
    ctes: dict[str, set[str] | None],
) -> set[str] | None:
    """The columns a FROM item is known to have; None when unknown."""
    if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
        if not source.db and source.name in ctes:
            return ctes[source.name]
        known = schema.columns(table_name(source, catalog, database))
        return set(known) if known else None
    if isinstance(source, exp.Subquery) and isinstance(source.this, exp.Query):
        return _output_names(source.this, source.args.get("alias"))
    return None


def _output_names(query: exp.Expr, alias: exp.Expr | None) -> set[str] | None:
    if isinstance(alias, exp.TableAlias) and alias.columns:
        return {c.name for c in alias.columns}
    while isinstance(query, (exp.SetOperation, exp.Subquery)):
        query = query.this
    if not isinstance(query, exp.Select) or any(_is_star(s) for s in query.selects):
        return None
    return {s.alias_or_name for s in query.selects}


def _own_columns(select: exp.Select) -> list[tuple[exp.Expr | None, exp.Column]]:
    """Columns of this SELECT's own list and clauses (not of nested queries), each with the
    projection holding it (None in a clause)."""
    found: list[tuple[exp.Expr | None, exp.Column]] = []
    roots: list[tuple[exp.Expr | None, exp.Expr]] = [(p, p) for p in select.selects]
    for key in ("where", "group", "having"):
        node = select.args.get(key)
        if node is not None:
            roots.append((None, node))
    for owner, node in roots:
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, exp.Column):
                found.append((owner, n))
            elif not isinstance(n, (exp.Query, exp.Subquery)):
                stack.extend(n.iter_expressions())
    return found


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


class _Tracer:
    """Resolves output columns scope by scope; each scope's outputs are computed once."""

    def __init__(
        self, root: Scope, schema: LineageSchema, catalog: str, database: str, deadline: float
    ):
        self.schema, self.catalog, self.database = schema, catalog, database
        self.deadline = deadline
        self.scope_of: dict[int, Scope] = {id(s.expression): s for s in root.traverse()}
        self.memo: dict[int, list[Output]] = {}
        self.aliased: dict[int, tuple[Deps, bool]] = {}  # projection id -> its sources
        self.resolving: set[int] = set()  # projections being resolved: an alias cycle stops
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
            for i, projection in enumerate(expr.selects):
                if _is_star(projection):
                    self.problems.append(_STAR_UNKNOWN)
                    continue
                deps, exact = self._projection(projection, scope)
                unnamed = projection.unalias().meta.get(_UNNAMED)
                out.append((f"_col{i}" if unnamed else projection.alias_or_name, deps, exact))
            return out
        return []  # VALUES and table functions: no column sources

    def _projection(self, projection: exp.Expr, scope: Scope) -> tuple[Deps, bool]:
        """One output's sources, once per projection; a projection met again while it is
        being resolved (``SELECT b AS a, a AS b``) is read as the columns it names."""
        key = id(projection)
        if key in self.aliased:
            return self.aliased[key]
        self.resolving.add(key)
        try:
            value = projection.unalias()
            if isinstance(value, exp.Column):
                found = self._resolve(value, scope)
            else:
                found = self.deps(projection, scope), False
        finally:
            self.resolving.discard(key)
        self.aliased[key] = found
        return found

    def deps(self, node: exp.Expr, scope: Scope) -> Deps:
        found: Deps = set()
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, exp.Column):
                found |= self.resolve(n, scope)
            elif isinstance(n, (exp.Subquery, exp.Query)) and n is not node:
                child = self._subquery(n)
                if child is None:
                    stack.extend(n.iter_expressions())
                else:  # a scalar or IN subquery: its outputs feed this value
                    for _, deps, _ in self.outputs(child):
                        found |= deps
            else:
                stack.extend(n.iter_expressions())
        return found

    def _subquery(self, node: exp.Expr) -> Scope | None:
        return self.scope_of.get(id(node.this if isinstance(node, exp.Subquery) else node))

    def resolve(self, column: exp.Column, scope: Scope) -> Deps:
        return self._resolve(column, scope)[0]

    def _resolve(self, column: exp.Column, scope: Scope) -> tuple[Deps, bool]:
        """The column's sources, and whether it is one base column passed through as is."""
        alias, name = column.table, column.name
        if name == "*":
            self.problems.append(_STAR_UNKNOWN)
            return set(), False
        if column.meta.get(_ALIAS_REF):
            projection = _output(scope, name)
            if projection is not None and id(projection) not in self.resolving:
                return self._projection(projection, scope)
            alias = "" if alias not in scope.sources else alias
        walk: Scope | None = scope
        while walk is not None:
            sources = walk.sources
            if alias and alias in sources:
                return self._from_source(sources[alias], name)
            if column.db and column.db in sources:  # struct field: source.column.field
                return self._from_source(sources[column.db], alias)[0], False
            if not alias:
                owner, certain = self._owner(sources, name)
                if owner is not None:
                    return self._from_source(owner, name)
                if not certain:
                    break  # a source of unknown columns may hold it: no guess outward
            walk = walk.parent
        self.problems.append(f"unresolved column: {column.sql(dialect=DIALECT)}")
        return set(), False

    def _owner(
        self, sources: dict[str, exp.Table | Scope], name: str
    ) -> tuple[exp.Table | Scope | None, bool]:
        """The source an unqualified column belongs to: the only one, else the only one known
        to have it (qualification does this unless it had to fall back); and whether no
        source could hold it unseen (only then may it be an outer query's column)."""
        if len(sources) == 1:
            return next(iter(sources.values())), True
        known = [(s, self._columns_of(s)) for s in sources.values()]
        having = [s for s, cols in known if cols is not None and name in cols]
        if len(having) == 1:
            return having[0], True
        return None, not having and all(cols is not None for _, cols in known)

    def _columns_of(self, source: exp.Table | Scope) -> list[str] | None:
        """A source's columns; None when unknown (a table not in the schema)."""
        if isinstance(source, exp.Table):
            return self.schema.columns(table_name(source, self.catalog, self.database))
        expr = source.expression
        if isinstance(expr, (exp.Select, exp.SetOperation)):
            return [c.lower() for c in source.outer_columns] or [
                n for n, _, _ in self.outputs(source)
            ]
        alias = expr.args.get("alias")
        if isinstance(expr, exp.Unnest) and isinstance(alias, exp.TableAlias) and alias.columns:
            return [c.name for c in alias.columns]
        return None

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

    # -- column roles

    def roles(
        self, root: Scope, outputs: list[Output], names: list[str], outer: list[exp.Order]
    ) -> dict[str, set[str]]:
        """How the query uses each base column: ``select`` (feeds an output), ``filter``
        (WHERE, HAVING), ``join`` (a join condition, or WHERE equating two sources), ``group``
        and ``order``, through CTEs, derived tables and subqueries (a subquery in a WHERE
        filters on its outputs). Like join keys, they add no problems."""
        keep = len(self.problems)
        found: dict[str, set[str]] = {}

        def add(deps: Deps, role: str) -> None:
            for dep in deps:
                found.setdefault(dep, set()).add(role)

        for _, deps, _ in outputs:
            add(deps, "select")
        for scope in root.traverse():
            expr = scope.expression
            if isinstance(expr, exp.Select):
                where = expr.args.get("where")
                for term in _conjuncts(where.this if where is not None else None):
                    add(self.deps(term, scope), "join" if _equates(term, scope) else "filter")
                for join in expr.args.get("joins") or []:
                    on = join.args.get("on")
                    if on is not None:
                        add(self.deps(on, scope), "join")
                having = expr.args.get("having")
                if having is not None:
                    add(self._keys(having.this, scope), "filter")
                group = expr.args.get("group")
                if group is not None:
                    add(self._keys(group, scope), "group")
            if isinstance(expr, (exp.Select, exp.SetOperation)):
                order = expr.args.get("order")
                for ordered in order.expressions if order is not None else []:
                    add(self._keys(ordered.this, scope), "order")
        for order in outer:  # ORDER BY outside the parentheses: by output position or name
            for ordered in order.expressions:
                add(_by_output(ordered.this, names, outputs), "order")
        del self.problems[keep:]
        return found

    def _keys(self, node: exp.Expr, scope: Scope) -> Deps:
        """Sources of a GROUP BY / HAVING / ORDER BY key, where a position or a name may
        stand for an output of the SELECT (``ORDER BY 2``, ``ORDER BY total``)."""
        select = scope.expression
        position = _position(node)
        if position is not None:
            if isinstance(select, exp.SetOperation):
                return _by_output(node, [], self.outputs(scope))
            if isinstance(select, exp.Select) and position <= len(select.selects):
                return self._projection(select.selects[position - 1], scope)[0]
            return set()
        if isinstance(node, exp.Group):  # keys, ROLLUP / CUBE / GROUPING SETS
            found: Deps = set()
            for key in node.expressions:
                found |= self._keys(key, scope)
            for arg, value in node.args.items():
                if arg != "expressions" and isinstance(value, (exp.Expr, list)):
                    for part in value if isinstance(value, list) else [value]:
                        if isinstance(part, exp.Expr):
                            found |= self._named(part, scope)
            return found
        return self._named(node, scope)

    def _named(self, node: exp.Expr, scope: Scope) -> Deps:
        """Like ``deps``, but an unqualified name of an output is that output."""
        found: Deps = set()
        stack = [node]
        select = scope.expression
        while stack:
            n = stack.pop()
            if isinstance(n, exp.Column) and not n.table:
                if isinstance(select, exp.SetOperation):
                    outputs = self.outputs(scope)
                    found |= _by_output(n, [o for o, _, _ in outputs], outputs)
                    continue
                named = _output(scope, n.name)
                if named is not None and id(named) not in self.resolving:
                    found |= self._projection(named, scope)[0]
                    continue
            child = self._subquery(n) if isinstance(n, (exp.Query, exp.Subquery)) else None
            if child is not None:
                for _, deps, _ in self.outputs(child):
                    found |= deps
            elif isinstance(n, exp.Column):
                found |= self.resolve(n, scope)
            else:
                stack.extend(n.iter_expressions())
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


def _output(scope: Scope, name: str) -> exp.Expr | None:
    """The projection of the scope's SELECT named ``name``, if any."""
    select = scope.expression
    if not isinstance(select, exp.Select):
        return None
    for projection in select.selects:
        if isinstance(projection, exp.Alias) and projection.alias == name:
            return projection
    return None


def _position(node: exp.Expr) -> int | None:
    """A ``GROUP BY`` / ``ORDER BY`` position (checked against the select list already)."""
    if isinstance(node, exp.Literal) and not node.is_string and node.name.isdigit():
        return int(node.name)
    return None


def _by_output(node: exp.Expr, names: list[str], outputs: list[Output]) -> Deps:
    """Sources of the output a position or a name stands for; none for anything else."""
    position = _position(node)
    if position is not None and 0 < position <= len(outputs):
        return set(outputs[position - 1][1])
    if isinstance(node, exp.Column) and node.name in names:
        return set(outputs[names.index(node.name)][1])
    return set()


def _equates(term: exp.Expr, scope: Scope) -> bool:
    """``a.x = b.y`` of two sources of the scope: a join written in WHERE."""
    if not isinstance(term, (exp.EQ, exp.NullSafeEQ)):
        return False
    left, right = term.this.unnest(), term.expression.unnest()
    if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
        return False
    sources = scope.sources
    return left.table != right.table and left.table in sources and right.table in sources


def _conjuncts(condition: exp.Expr | None) -> list[exp.Expr]:
    """The top-level AND-ed terms of a condition, parentheses removed."""
    if condition is None:
        return []
    condition = condition.unnest()
    if isinstance(condition, exp.And):
        return [t for part in condition.flatten() for t in _conjuncts(part)]
    return [condition]
