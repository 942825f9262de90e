"""Names of tables and columns: their parts, and the one readable string that stands for them.

A table is identified by its parts (catalog, database, table), and Glue lets each part hold
dots, quotes, backticks, spaces and any unicode, so ``a.b`` in database ``x`` and ``b`` in
database ``x.a`` cannot both be ``x.a.b``. The readable form (the store's ``fqn`` columns,
lineage results) is therefore written the way Athena writes such names: a part holding a dot
or a double quote is double-quoted, a double quote inside doubled (``cat."x.a".b`` vs
``cat.x."a.b"``). Every other part stays bare, so plain names read as they always have. Parts
are lower case, as Athena folds them. :func:`split_fqn` is the exact inverse.
"""

from __future__ import annotations

QUOTE = '"'
_SPECIAL = (".", QUOTE)


def quote_part(part: str) -> str:
    """One lower-cased part, double-quoted only when it holds a dot or a double quote."""
    part = part.lower()
    if any(c in part for c in _SPECIAL):
        return QUOTE + part.replace(QUOTE, QUOTE * 2) + QUOTE
    return part


def join_parts(*parts: str) -> str:
    return ".".join(quote_part(p) for p in parts)


def table_fqn(catalog: str, database: str, name: str) -> str:
    """The store's key for a table: ``catalog.database.table``, quoted where needed."""
    return join_parts(catalog, database, name)


def schema_fqn(catalog: str, database: str) -> str:
    """The store's key for a database: ``catalog.database``, quoted where needed."""
    return join_parts(catalog, database)


def column_ref(fqn: str, column: str) -> str:
    """A column of the table ``fqn`` (already an fqn): ``fqn.column``, quoted where needed."""
    return f"{fqn}.{quote_part(column)}"


def sql_name(*parts: str) -> str:
    """A reference Athena's SQL reads back as exactly these parts: every part quoted."""
    return ".".join(QUOTE + p.replace(QUOTE, QUOTE * 2) + QUOTE for p in parts)


def split_fqn(text: str, parts: int | None = None) -> tuple[str, ...]:
    """The parts of a dotted name in the quoted form above; ``parts`` is how many there must
    be. Raises ``ValueError`` naming the text and the position of what is wrong."""
    found: list[str] = []
    i, n = 0, len(text)
    while True:
        if text.startswith(QUOTE, i):
            chars, i = [], i + 1
            while True:
                end = text.find(QUOTE, i)
                if end == -1:
                    raise ValueError(f"unterminated quoted part at {i - 1} in name {text!r}")
                chars.append(text[i:end])
                if text.startswith(QUOTE, end + 1):  # a doubled quote: one quote character
                    chars.append(QUOTE)
                    i = end + 2
                    continue
                i = end + 1
                break
            found.append("".join(chars))
        else:
            end = min((j for j in (text.find(".", i), text.find(QUOTE, i)) if j != -1), default=n)
            found.append(text[i:end])
            i = end
        if i == n:
            break
        if text[i] != ".":
            raise ValueError(f"expected '.' at {i} in name {text!r}")
        i += 1
    if parts is not None and len(found) != parts:
        raise ValueError(f"expected {parts} parts, found {len(found)} in name {text!r}")
    return tuple(found)


def table_parts(fqn: str) -> tuple[str, str, str]:
    """(catalog, database, table) of a table fqn."""
    catalog, database, name = split_fqn(fqn, 3)
    return catalog, database, name


def split_column_ref(ref: str) -> tuple[str, str]:
    """(table fqn, column) of a column reference made by :func:`column_ref`."""
    catalog, database, name, column = split_fqn(ref, 4)
    return table_fqn(catalog, database, name), column
