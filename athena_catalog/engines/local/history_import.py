"""``athena-catalog import-history``: Athena QueryExecution objects from a JSON Lines file.

The whole file is parsed first, so one bad line means nothing is imported; each error names
the file, the line and the field (``athena_catalog.engines.query_execution``).
"""

from __future__ import annotations

import json
from pathlib import Path

from athena_catalog.engines.query_execution import FieldError, parse_query_execution
from athena_catalog.engines.records import QueryExecution


def read_query_executions(path: Path) -> list[QueryExecution]:
    """Parse a whole JSONL file first, so a bad line means nothing is imported."""
    executions = []
    try:
        # JSON Lines ends records at "\n" only: splitlines() would also split at U+2028 and
        # other separators that JSON strings may hold raw.
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read history file: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line, parse_int=_json_int)
            if not isinstance(item, dict):
                raise FieldError("QueryExecution", "expected a JSON object")
            execution = parse_query_execution(item)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}, line {number}: invalid JSON: {exc.msg}") from None
        except FieldError as exc:
            raise ValueError(f"{path}, line {number}: {exc}") from None
        if execution is not None:
            executions.append(execution)
    return executions


class _HugeNumber:
    """A JSON integer too long to be any field's value: kept so the field's check names it,
    where Python's int() would fail with no field (past 4300 digits)."""

    def __init__(self, digits: str):
        self.digits = len(digits.lstrip("-"))

    def __repr__(self) -> str:
        return f"a {self.digits}-digit number"


def _json_int(text: str) -> int | _HugeNumber:
    return int(text) if len(text) <= 40 else _HugeNumber(text)
