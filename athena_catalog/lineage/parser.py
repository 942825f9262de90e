"""``parse_lineage``: one Athena statement in, its table and column lineage out, never an
exception and never a hang, in any thread."""

from __future__ import annotations

import time
from collections.abc import Mapping

from sqlglot.errors import SqlglotError

from athena_catalog.lineage.deadline import DeadlineExceeded, deadline
from athena_catalog.lineage.result import LineageResult, LineageSchema
from athena_catalog.lineage.statements import Malformed, Statement
from athena_catalog.sql_text import Unterminated

DEFAULT_TIMEOUT_S = 5.0
MAX_SQL_CHARS = 1_000_000  # Athena's own limit is 262,144 bytes
MAX_NESTING = 200  # parenthesis depth beyond which the recursive parser is not trusted


def parse_lineage(
    sql: str,
    default_catalog: str = "awsdatacatalog",
    default_database: str = "default",
    schema: Mapping[str, Mapping[str, str]] | LineageSchema | None = None,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> LineageResult:
    """Lineage of one statement run with ``default_catalog``/``default_database`` as its
    context. ``schema`` maps ``catalog.database.table`` to ``{column: type}``; pass a
    :class:`LineageSchema` to share one index across many calls."""
    if not isinstance(sql, str) or not sql.strip():
        return LineageResult(error="empty statement")
    if len(sql) > MAX_SQL_CHARS:
        return LineageResult(error=f"too long: over {MAX_SQL_CHARS} characters")
    if _nesting(sql) > MAX_NESTING:
        return LineageResult(error=f"too deeply nested: over {MAX_NESTING} levels")
    index = schema if isinstance(schema, LineageSchema) else LineageSchema(schema)
    due = time.monotonic() + timeout_s  # checked between phases too, for a precise reason
    statement = Statement(index, default_catalog or "", default_database or "", due)
    try:
        with deadline(timeout_s):
            return statement.analyse(sql)
    except DeadlineExceeded:
        return LineageResult(error=f"timeout: analysis took longer than {timeout_s:g} s")
    except (SqlglotError, Malformed, Unterminated) as e:
        return LineageResult(error=f"parse error: {_first_line(e)}")
    except RecursionError:
        return LineageResult(error="too deeply nested: recursion limit")
    except Exception as e:  # a bug or an unforeseen shape: report it, never raise
        return LineageResult(error=f"internal error: {type(e).__name__}: {_first_line(e)}")


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:300] if text else type(e).__name__


def _nesting(sql: str) -> int:
    """Maximum parenthesis depth, cheaply (quotes are not skipped: an upper bound)."""
    depth = deepest = 0
    for ch in sql:
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
    return deepest
