"""DuckDB type strings (as ``duckdb_columns.data_type`` prints them) to Glue/Athena type strings.

The embedded engine must report column types exactly as Glue stores them (lower case, no
spaces, Hive spelling), so the crawl sees the same strings from both engines.
"""

from __future__ import annotations

import re

# DuckDB scalar type name -> Hive/Glue type name. Unsigned and huge integers widen to the
# smallest Athena type that holds every value.
_SCALARS = {
    "BIGINT": "bigint",
    "INTEGER": "int",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "UBIGINT": "decimal(20,0)",
    "UINTEGER": "bigint",
    "USMALLINT": "int",
    "UTINYINT": "smallint",
    "HUGEINT": "decimal(38,0)",
    "UHUGEINT": "decimal(38,0)",
    "DOUBLE": "double",
    "FLOAT": "float",
    "BOOLEAN": "boolean",
    "VARCHAR": "string",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "BLOB": "binary",
    "BIT": "binary",
    # No Glue column type for these: Athena reads them as strings.
    "TIME": "string",
    "TIME WITH TIME ZONE": "string",
    "INTERVAL": "string",
    "UUID": "string",
    "JSON": "string",
}

# Identifiers, double-quoted identifiers (with "" escapes), single-quoted strings, numbers,
# punctuation. Multi-word type names are joined back together by the parser.
_TOKEN = re.compile(r'\s*("(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|[A-Za-z_][A-Za-z_0-9]*|\d+|[(),\[\]])')


def athena_type(duckdb_type: str, *, view: bool = False) -> str:
    """Convert one DuckDB type string; ``view=True`` spells strings ``varchar`` as Athena views do.

    Raises ValueError on a string that is not a DuckDB type.
    """
    parser = _Parser(duckdb_type, view=view)
    result = parser.parse_type()
    if parser.peek() is not None:
        raise ValueError(f"unexpected {parser.peek()!r} in type {duckdb_type!r}")
    return result


class _Parser:
    """Recursive descent over DuckDB's type grammar: NAME[(args)]{[n]}."""

    def __init__(self, text: str, *, view: bool):
        self.text = text
        self.view = view
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"expected {expected or 'a type'} in type {self.text!r}")
        self.pos += 1
        return token

    def parse_type(self) -> str:
        name = self.take().upper()
        # Multi-word names: TIMESTAMP WITH TIME ZONE, DOUBLE PRECISION ...
        while (following := self.peek()) is not None and following[0].isalpha():
            name = f"{name} {self.take().upper()}"
        if name == "STRUCT":
            result = self._struct()
        elif name == "MAP":
            args = self._args()
            if len(args) != 2:
                raise ValueError(f"expected MAP(key, value) in type {self.text!r}")
            result = f"map<{args[0]},{args[1]}>"
        elif name == "DECIMAL":
            result = self._decimal()
        elif name in ("UNION", "ENUM"):
            self._skip_parens()
            result = "string"
        elif name in _SCALARS:
            result = _SCALARS[name]
            if self.view and result == "string":
                result = "varchar"
        else:
            raise ValueError(f"unknown type {name!r} in type {self.text!r}")
        while self.peek() == "[":  # LIST (T[]) and fixed ARRAY (T[3]) are both Athena arrays
            self.take("[")
            if self.peek() != "]":
                self.take()
            self.take("]")
            result = f"array<{result}>"
        return result

    def _args(self) -> list[str]:
        self.take("(")
        args = [self.parse_type()]
        while self.peek() == ",":
            self.take(",")
            args.append(self.parse_type())
        self.take(")")
        return args

    def _struct(self) -> str:
        self.take("(")
        fields = []
        while True:
            name = self.take()
            if name.startswith('"'):
                name = name[1:-1].replace('""', '"')
            fields.append(f"{name}:{self.parse_type()}")
            if self.peek() == ")":
                self.take(")")
                return f"struct<{','.join(fields)}>"
            self.take(",")

    def _decimal(self) -> str:
        if self.peek() != "(":
            return "decimal(18,3)"  # DuckDB's default precision and scale
        self.take("(")
        precision = self.take()
        scale = "0"
        if self.peek() == ",":
            self.take(",")
            scale = self.take()
        self.take(")")
        return f"decimal({precision},{scale})"

    def _skip_parens(self) -> None:
        depth = 0
        while True:
            token = self.take()
            depth += {"(": 1, ")": -1}.get(token, 0)
            if depth == 0:
                return


def _tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"cannot read type {text!r} at position {pos}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens
