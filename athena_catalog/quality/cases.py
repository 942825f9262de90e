"""What a data-quality test is once read from ``quality.yaml``, and what one evaluation found.

The YAML reader (``quality.spec``) makes ``TestCase``s; the runner (``quality.runner``) turns
them into Great Expectations expectations, runs them as SQL where the data lives and gives
back one ``Outcome`` per case; the Dagster wiring maps outcomes onto ``AssetCheckResult``s and
the store keeps them (``quality_results``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warn"]


@dataclass(frozen=True)
class TestCase:
    """One test on one table, in OpenMetadata's vocabulary or as a native GX expectation."""

    __test__ = False  # not a pytest test class

    table_fqn: str  # catalog.database.table, quoted by athena_catalog.names
    name: str  # the Dagster check name, unique per table
    # OpenMetadata's testDefinitionName, or for a native case the GX expectation's snake-case
    # name (expect_column_values_to_not_be_null).
    test_definition: str
    column_name: str | None = None
    # OpenMetadata's parameterValues as {name: value}, or a native case's GX kwargs.
    parameters: Mapping[str, Any] = field(default_factory=dict)
    native: bool = False
    severity: Severity = "error"
    blocking: bool = False
    where: str = ""  # "quality.yaml:12", for messages that name the file and line


@dataclass(frozen=True)
class Outcome:
    """One evaluation of one case. A case whose SQL failed has ``passed=False`` and ``error``."""

    case: TestCase
    passed: bool
    observed_value: Any = None  # JSON-ready (no numpy scalars)
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    sample: Sequence[Any] | None = None  # capped unexpected values; failures only
    error: str | None = None
    bytes_scanned: int | None = None  # this case's share of the statements it cost
    statement_ids: Sequence[str] = ()
    # The check's effective severity: GX's ``severity`` of a native expectation when it sets
    # one (critical -> error, warning / info -> warn), else the case's. None: the case's.
    severity: Severity | None = None
