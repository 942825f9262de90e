"""DuckDB type strings to the Glue/Athena spelling the crawl stores."""

from __future__ import annotations

import pytest

from athena_catalog.engines.athena_types import athena_type


@pytest.mark.parametrize(
    ("duckdb_type", "expected"),
    [
        ("BIGINT", "bigint"),
        ("INTEGER", "int"),
        ("SMALLINT", "smallint"),
        ("TINYINT", "tinyint"),
        ("DOUBLE", "double"),
        ("FLOAT", "float"),
        ("BOOLEAN", "boolean"),
        ("VARCHAR", "string"),
        ("DATE", "date"),
        ("TIMESTAMP", "timestamp"),
        ("TIMESTAMP WITH TIME ZONE", "timestamp"),
        ("BLOB", "binary"),
        ("HUGEINT", "decimal(38,0)"),
        ("UBIGINT", "decimal(20,0)"),
        ("UUID", "string"),
        ("DECIMAL(12,2)", "decimal(12,2)"),
        ("DECIMAL(38, 10)", "decimal(38,10)"),
        ("DECIMAL", "decimal(18,3)"),
        ("VARCHAR[]", "array<string>"),
        ("INTEGER[3]", "array<int>"),
        ("BIGINT[][]", "array<array<bigint>>"),
        ("MAP(VARCHAR, INTEGER)", "map<string,int>"),
        ("MAP(VARCHAR, DECIMAL(10,2)[])", "map<string,array<decimal(10,2)>>"),
        ("STRUCT(a INTEGER, b VARCHAR[])", "struct<a:int,b:array<string>>"),
        (
            "STRUCT(sku VARCHAR, qty INTEGER, price DECIMAL(10,2))[]",
            "array<struct<sku:string,qty:int,price:decimal(10,2)>>",
        ),
        (
            'STRUCT("Inner Key" VARCHAR, "values" INTEGER[], geo STRUCT(lat DOUBLE, lon DOUBLE))',
            "struct<Inner Key:string,values:array<int>,geo:struct<lat:double,lon:double>>",
        ),
        ('STRUCT("say ""hi""" VARCHAR)', 'struct<say "hi":string>'),
        (
            "MAP(VARCHAR, STRUCT(a MAP(VARCHAR, BIGINT)))",
            "map<string,struct<a:map<string,bigint>>>",
        ),
        ("ENUM('a', 'b')", "string"),
    ],
)
def test_table_column_types(duckdb_type: str, expected: str) -> None:
    assert athena_type(duckdb_type) == expected


def test_views_spell_strings_varchar_everywhere() -> None:
    assert athena_type("VARCHAR", view=True) == "varchar"
    assert athena_type("MAP(VARCHAR, VARCHAR[])", view=True) == "map<varchar,array<varchar>>"
    assert athena_type("BIGINT", view=True) == "bigint"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("GEOMETRY", "unknown type 'GEOMETRY'"),
        ("STRUCT(a INTEGER", "expected"),
        ("MAP(VARCHAR)", "expected MAP(key, value)"),
        ("INTEGER)", "unexpected ')'"),
        ("", "expected a type"),
        ("INTEGER $", "cannot read type"),
    ],
)
def test_malformed_types_raise(bad: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        athena_type(bad)
