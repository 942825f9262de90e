"""The project's own queries: exactly one read-only SELECT, marked as ours.

Profiles, quality checks and test-connection read tables; nothing they send may write, and
everything they send carries ``athena_catalog.markers.MARKER`` so usage and lineage leave it
out. Both engines pass every such statement through ``marked_select``; their SQLAlchemy
engines through ``guard_sqlalchemy``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy
import sqlglot
from pyathena.formatter import DefaultParameterFormatter
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from athena_catalog.engines.records import EngineError
from athena_catalog.markers import MARKER, mark

DIALECT = "athena"


def marked_select(sql: str) -> str:
    """``sql`` with the marker in front (once), if it is one read-only query; else
    EngineError with code NOT_A_SELECT naming what it is."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except (ParseError, TokenError) as exc:
        raise EngineError(f"not a SELECT: cannot parse it: {exc}", code="NOT_A_SELECT") from None
    if len(statements) != 1:
        raise EngineError(
            f"not a SELECT: {len(statements)} statements, exactly one is allowed",
            code="NOT_A_SELECT",
        )
    statement = statements[0]
    if not isinstance(statement, exp.Query) or statement.find(exp.Into) is not None:
        what = statement.key.upper() if not isinstance(statement, exp.Command) else statement.name
        raise EngineError(f"not a SELECT: {what} statements are refused", code="NOT_A_SELECT")
    return sql if sql.lstrip().startswith(MARKER) else mark(sql)


def guard_sqlalchemy(engine: sqlalchemy.Engine) -> sqlalchemy.Engine:
    """Every statement ``engine`` sends goes through ``marked_select`` first, judged as the
    cursor will send it (its pyformat parameters rendered the way PyAthena renders them);
    the cursor still gets the statement and parameters to render itself."""

    def before_cursor_execute(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> tuple[str, Any]:
        rendered = statement
        if isinstance(parameters, dict):
            rendered = DefaultParameterFormatter().format(statement, parameters)
        marked_select(rendered)
        return (statement if statement.lstrip().startswith(MARKER) else mark(statement)), parameters

    sqlalchemy.event.listen(engine, "before_cursor_execute", before_cursor_execute, retval=True)
    return engine
