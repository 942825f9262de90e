"""Exact table- and column-level lineage of Athena SQL: query history and view definitions."""

from athena_catalog.lineage.parser import parse_lineage
from athena_catalog.lineage.result import LineageResult, LineageSchema

__all__ = ["LineageResult", "LineageSchema", "parse_lineage"]
