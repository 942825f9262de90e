"""Reading ``quality.yaml``: OpenMetadata's test-suite shape -> :class:`TestCase`s.

A mistake never stops the other tables' tests. Each error names the file, the line and the
test. Where the bad test still has a usable check name on a known table, it stays in the
suite as an *invalid* case: the Dagster wiring declares its check, which fails with the error,
so the table's Checks tab shows what is wrong. What has no such home (invalid YAML, an unknown
table, a missing or duplicate name) is a file-level error, logged and shown in the job's
metadata. Plain Python: the caller passes the catalog store's tables and columns.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from athena_catalog.names import split_fqn, table_fqn
from athena_catalog.quality.cases import Severity, TestCase
from athena_catalog.quality.definitions import parameter_errors

# Dagster's rule for check names (dagster._core.definitions.utils.VALID_NAME_REGEX).
CHECK_NAME = re.compile(r"[A-Za-z0-9_]+")
SEVERITIES: dict[str, Severity] = {
    "error": "error",
    "warn": "warn",
    # Great Expectations' own severity names, for native expectations.
    "critical": "error",
    "warning": "warn",
    "info": "warn",
}
_COMMON_KEYS = {"name", "severity", "blocking", "description", "displayName"}
_OPENMETADATA_KEYS = _COMMON_KEYS | {"testDefinitionName", "columnName", "parameterValues"}
_NATIVE_KEYS = _COMMON_KEYS | {"expectation", "kwargs"}
_SUITE_KEYS = {"entityFullyQualifiedName", "testCases", "name", "description", "displayName"}

# table fqn -> column name -> Athena type: what the catalog store knows.
Catalog = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class SpecError:
    """One mistake in the file, at ``where`` (``quality.yaml:12``)."""

    where: str
    message: str
    table: str | None = None
    test: str | None = None

    def __str__(self) -> str:
        subject = ", ".join(
            part
            for part in (
                f"table {self.table}" if self.table else "",
                f"test {self.test!r}" if self.test else "",
            )
            if part
        )
        return f"{self.where}: {subject + ': ' if subject else ''}{self.message}"


@dataclass(frozen=True)
class QualitySpec:
    """The tests of a file, per table fqn in file order, with every error found."""

    path: str
    suites: Mapping[str, tuple[TestCase, ...]] = field(default_factory=dict)
    # (table fqn, check name) -> why that case cannot run; it fails with this when evaluated
    invalid: Mapping[tuple[str, str], SpecError] = field(default_factory=dict)
    errors: tuple[SpecError, ...] = ()  # every error, the invalid cases' included

    def valid_cases(self, table: str) -> list[TestCase]:
        return [c for c in self.suites.get(table, ()) if (table, c.name) not in self.invalid]


class _Located(dict[Any, Any]):
    """A YAML mapping that remembers the line it starts on."""

    line = 0


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader whose mappings carry their line and refuse duplicate keys."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Any:
    data = _Located()
    data.line = node.start_mark.line + 1
    yield data
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.MarkedYAMLError(
                problem=f"duplicate key {key!r} (first on line {seen[key]})",
                problem_mark=key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    data.update(loader.construct_mapping(node, deep=True))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_spec(path: str | Path, catalog: Catalog, *, required: bool = True) -> QualitySpec:
    """The tests of the file at ``path``, checked against ``catalog``. A missing file is an
    error when ``required`` (the path was configured), else no tests."""
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        if not required:
            return QualitySpec(shown)
        return QualitySpec(shown, errors=(SpecError(f"{shown}:1", "file not found"),))
    except (OSError, UnicodeDecodeError) as exc:
        return QualitySpec(shown, errors=(SpecError(f"{shown}:1", f"cannot read: {exc}"),))
    return parse_spec(text, catalog, shown)


def parse_spec(text: str, catalog: Catalog, path: str = "quality.yaml") -> QualitySpec:
    """The tests in ``text`` (the content of ``path``), checked against ``catalog``."""
    try:
        document = yaml.load(text, Loader=_Loader)  # a SafeLoader: plain data only
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = " ".join(filter(None, (exc.context, exc.problem)))
        return QualitySpec(path, errors=(SpecError(f"{path}:{line}", f"invalid YAML: {problem}"),))
    except yaml.YAMLError as exc:
        return QualitySpec(path, errors=(SpecError(f"{path}:1", f"invalid YAML: {exc}"),))
    return _Reader(path, catalog).read(document)


class _Reader:
    def __init__(self, path: str, catalog: Catalog):
        self.path = path
        self.catalog = catalog
        self.suites: dict[str, list[TestCase]] = {}
        self.invalid: dict[tuple[str, str], SpecError] = {}
        self.errors: list[SpecError] = []
        self.first_line: dict[tuple[str, str], int] = {}

    def where(self, line: int) -> str:
        return f"{self.path}:{line}"

    def error(
        self, line: int, message: str, table: str | None = None, test: str | None = None
    ) -> None:
        self.errors.append(SpecError(self.where(line), message, table, test))

    def read(self, document: Any) -> QualitySpec:
        if document is None:  # an empty file: no tests
            document = _Located(suites=[])
        line = getattr(document, "line", 1)
        if not isinstance(document, dict) or "suites" not in document:
            self.error(line, "expected a mapping with a 'suites' list")
        elif not isinstance(document["suites"], list):
            self.error(line, "'suites' must be a list of table suites")
        else:
            for key in sorted(set(document) - {"suites"}, key=str):
                self.error(line, f"unknown key {key!r} (expected 'suites')")
            for suite in document["suites"]:
                self.suite(suite, line)
        return QualitySpec(
            self.path,
            {fqn: tuple(cases) for fqn, cases in self.suites.items()},
            dict(self.invalid),
            tuple(self.errors),
        )

    def suite(self, suite: Any, parent_line: int) -> None:
        line = getattr(suite, "line", parent_line)
        if not isinstance(suite, dict):
            self.error(line, f"a suite must be a mapping, got {suite!r}")
            return
        raw = suite.get("entityFullyQualifiedName")
        if not isinstance(raw, str) or not raw.strip():
            self.error(line, "a suite needs entityFullyQualifiedName (catalog.database.table)")
            return
        fqn = self.table(raw, line)
        if fqn is None:
            return
        for key in sorted(set(suite) - _SUITE_KEYS, key=str):
            self.error(line, f"unknown key {key!r} in a suite", fqn)
        cases = suite.get("testCases") or []
        if not isinstance(cases, list):
            self.error(line, "testCases must be a list", fqn)
            return
        for entry in cases:
            self.case(fqn, entry, line)

    def table(self, raw: str, line: int) -> str | None:
        """The store's fqn of the suite's table, or None after reporting why not."""
        try:
            fqn = table_fqn(*split_fqn(raw.strip(), 3))
        except ValueError as exc:
            self.error(line, f"entityFullyQualifiedName: {exc} (catalog.database.table)")
            return None
        if fqn not in self.catalog:
            close = difflib.get_close_matches(fqn, list(self.catalog), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            if not self.catalog:
                hint = " (the catalog store has no tables yet: materialize `metadata` first)"
            self.error(line, f"unknown table: not in the catalog store{hint}", fqn)
            return None
        return fqn

    def case(self, fqn: str, entry: Any, suite_line: int) -> None:
        line = getattr(entry, "line", suite_line)
        if not isinstance(entry, dict):
            self.error(line, f"a test case must be a mapping, got {entry!r}", fqn)
            return
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            self.error(line, "a test case needs a name (its Dagster check name)", fqn)
            return
        if not CHECK_NAME.fullmatch(name):
            self.error(
                line, "a name may hold only letters, digits and underscores (Dagster's rule)", fqn
            )
            return
        first = self.first_line.get((fqn, name))
        if first is not None:
            unique = "names are unique per table"
            self.error(line, f"duplicate name: first declared on line {first}; {unique}", fqn, name)
            message = f"duplicate name: declared again on line {line}; {unique}"
            earlier = self.invalid.get((fqn, name))
            if earlier is not None:
                message = f"{earlier.message}; {message}"
            self.invalid[(fqn, name)] = SpecError(self.where(first), message, fqn, name)
            return
        self.first_line[(fqn, name)] = line
        case, problems = self.build(fqn, name, entry, line)
        if not problems:
            problems = parameter_errors(case, self.catalog[fqn])
        self.suites.setdefault(fqn, []).append(case)
        if problems:
            error = SpecError(self.where(line), "; ".join(problems), fqn, name)
            self.errors.append(error)
            self.invalid[(fqn, name)] = error

    def build(
        self, fqn: str, name: str, entry: Mapping[str, Any], line: int
    ) -> tuple[TestCase, list[str]]:
        """The case as written and what is wrong with its shape (before its parameters)."""
        problems: list[str] = []
        native = "expectation" in entry
        if native and "testDefinitionName" in entry:
            problems.append("give either testDefinitionName or expectation, not both")
        allowed = _NATIVE_KEYS if native else _OPENMETADATA_KEYS
        problems += [f"unknown key {k!r}" for k in sorted(set(entry) - allowed, key=str)]
        severity = entry.get("severity", "error")
        if severity not in SEVERITIES:
            problems.append(f"severity must be error or warn, got {severity!r}")
        blocking = entry.get("blocking", False)
        if not isinstance(blocking, bool):
            problems.append(f"blocking must be true or false, got {blocking!r}")
        definition = entry.get("expectation" if native else "testDefinitionName")
        if not isinstance(definition, str) or not definition:
            problems.append("needs testDefinitionName (or expectation for a GX expectation)")
            definition = str(definition or "")
        column: Any
        if native:
            parameters = entry.get("kwargs") or {}
            if not isinstance(parameters, dict):
                problems.append(f"kwargs must be a mapping, got {parameters!r}")
                parameters = {}
            column = parameters.get("column")
        else:
            parameters, bad = self.parameter_values(entry.get("parameterValues"))
            problems += bad
            column = entry.get("columnName")
            if column is not None and not isinstance(column, str):
                problems.append(f"columnName must be a string, got {column!r}")
        case = TestCase(
            table_fqn=fqn,
            name=name,
            test_definition=definition,
            column_name=column if isinstance(column, str) else None,
            parameters=dict(parameters),
            native=native,
            severity=SEVERITIES.get(str(severity), "error"),
            blocking=blocking is True,
            where=self.where(line),
        )
        return case, problems

    @staticmethod
    def parameter_values(values: Any) -> tuple[dict[str, Any], list[str]]:
        """OpenMetadata's ``[{name, value}]`` as a dict (a plain mapping is accepted too)."""
        if values is None:
            return {}, []
        if isinstance(values, dict):
            return dict(values), []
        if not isinstance(values, list):
            return {}, [f"parameterValues must be a list of {{name, value}}, got {values!r}"]
        out: dict[str, Any] = {}
        problems: list[str] = []
        for item in values:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                problems.append(f"parameterValues: expected {{name, value}}, got {item!r}")
            elif set(item) - {"name", "value"}:
                extra = ", ".join(sorted(map(str, set(item) - {"name", "value"})))
                problems.append(f"parameterValues: unknown key {extra} in {item['name']!r}")
            elif item["name"] in out:
                problems.append(f"parameterValues: {item['name']!r} is given twice")
            else:
                out[item["name"]] = item.get("value")
        return out, problems
