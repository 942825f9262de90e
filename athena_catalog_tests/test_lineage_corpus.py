"""Every hand-checked corpus case, one test each, and the accuracy goals over all of them."""

from __future__ import annotations

import pytest

from athena_catalog_tests.lineage_corpus import Case, analyse, load_cases, load_schema, score

CASES = load_cases()
SCHEMA = load_schema()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    result = analyse(case, SCHEMA)
    assert result.error is None
    assert result.target == case.target
    assert result.sources == case.sources
    assert result.columns == case.columns
    if case.joins is not None:
        assert result.joins == case.joins
    if case.warnings is not None:
        assert result.warnings == list(case.warnings)
    if case.roles is not None:
        assert result.roles == case.roles


def test_corpus_size_and_accuracy_goals() -> None:
    assert len(CASES) >= 120
    assert len({c.id for c in CASES}) == len(CASES)
    tables, columns, joins = score(CASES, SCHEMA)
    assert tables.f1 == 1.0
    assert columns.f1 >= 0.97
    assert sum(c.joins is not None for c in CASES) >= 30
    assert joins.precision == 1.0 and joins.recall >= 0.95
