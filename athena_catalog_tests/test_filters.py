import pytest

from athena_catalog.filters import FilterPattern, InvalidFilterError


def test_no_patterns_keeps_everything() -> None:
    assert FilterPattern.compile().keeps("anything")


def test_include_then_exclude_case_insensitive() -> None:
    f = FilterPattern.compile(["sales", "^fin$"], [".*_tmp$"])
    assert f.keeps("SALES_eu")
    assert f.keeps("Fin")
    assert not f.keeps("finance")  # ^fin$ is anchored at both ends
    assert not f.keeps("sales_tmp")
    assert not f.keeps("marketing")


def test_match_is_anchored_at_start() -> None:
    f = FilterPattern.compile(["raw"])
    assert f.keeps("raw_events")
    assert not f.keeps("stage_raw")


def test_exclude_only() -> None:
    f = FilterPattern.compile(excludes=["^information_schema$"])
    assert not f.keeps("INFORMATION_SCHEMA")
    assert f.keeps("analytics")


def test_invalid_regex_names_option_index_and_pattern() -> None:
    with pytest.raises(InvalidFilterError) as e:
        FilterPattern.compile(["ok", "bad[("], option="schema_filter_pattern")
    msg = str(e.value)
    assert "schema_filter_pattern.includes[1]" in msg
    assert "'bad[('" in msg


def test_unanchored_exclude_needs_leading_wildcard() -> None:
    # re.match semantics, as OpenMetadata and DataHub: "_tmp$" only matches names starting so.
    assert FilterPattern.compile(excludes=["_tmp$"]).keeps("sales_tmp")
    assert not FilterPattern.compile(excludes=[".*_tmp$"]).keeps("sales_tmp")
