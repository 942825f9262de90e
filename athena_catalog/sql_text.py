"""Reading Athena SQL text without a tokenizer: the leading keyword, a parenthesised group,
UNLOAD's parts, and where a quote or comment is left open. Shared by the lineage parser and
the local engine.

Each is one linear pass. A regex such as ``(?:\\s+|--...|/\\*.*?\\*/)*(\\w+)`` backtracks
exponentially when the text is whitespace followed by something else (30 spaces and a digit
took minutes), and holds the GIL all that time, where no deadline can stop it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_QUOTED = {"'": "string", '"': "quoted identifier", "`": "quoted identifier"}
_OPENS_LITERAL = re.compile(r"['\"`]|--|/\*")
_OPENS_ANY = re.compile(r"['\"`()]|--|/\*")
_UNLOAD_TO = re.compile(r"\s*TO\s*'((?:[^']|'')*)'", re.I)


class Unterminated(ValueError):
    """A quote or ``/*`` that is never closed: the rest of the text is not SQL."""

    def __init__(self, what: str, position: int):
        super().__init__(f"unterminated {what} at character {position + 1}")
        self.what, self.position = what, position


def _skip_literal(text: str, i: int) -> int | None:
    """If a comment or a quoted string or identifier starts at ``i``, the index just past it
    (doubled quotes are escapes; a ``--`` comment ends at its newline); else ``None``.
    Raises :class:`Unterminated`."""
    ch = text[i] if i < len(text) else ""
    if ch in _QUOTED:
        end = text.find(ch, i + 1)
        while end != -1 and text.startswith(ch, end + 1):
            end = text.find(ch, end + 2)
        if end == -1:
            raise Unterminated(_QUOTED[ch], i)
        return end + 1
    if text.startswith("--", i):
        end = text.find("\n", i + 2)
        return len(text) if end == -1 else end + 1
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        if end == -1:
            raise Unterminated("comment", i)
        return end + 2
    return None


def _skip_blanks(sql: str) -> int:
    """Index of the first character outside leading whitespace and comments (``len(sql)``
    if there is none). Raises :class:`Unterminated`."""
    i = 0
    while True:
        space = _WHITESPACE.match(sql, i)
        if space is not None:
            i = space.end()
        if not sql.startswith(("--", "/*"), i):
            return i
        i = _skip_literal(sql, i) or i


def leading_keyword(sql: str) -> tuple[str, int]:
    """The statement's first word in upper case and the index just past it, after any
    whitespace and comments; ``''`` and the index of the first other character when the
    statement does not start with a word. Raises :class:`Unterminated` for a comment."""
    start = _skip_blanks(sql)
    match = _WORD.match(sql, start)
    if match is None:
        return "", start
    return match.group().upper(), match.end()


def split_parenthesised(text: str) -> tuple[str, str] | None:
    """``(inner) rest`` of a text that starts (after whitespace and comments) with a
    parenthesis: the body of that group and what follows it. Quotes and comments are
    skipped, so a ``)`` inside them does not close the group. ``None`` when the text does not
    start with ``(`` or the group, a quote or a comment is not closed."""
    try:
        i = _skip_blanks(text)
        if not text.startswith("(", i):
            return None
        depth, start = 0, i + 1
        while (found := _OPENS_ANY.search(text, i)) is not None:
            i = found.start()
            if text[i] == "(":
                depth += 1
            elif text[i] == ")":
                depth -= 1
                if depth == 0:
                    return text[start:i], text[i + 1 :]
            i = _skip_literal(text, i) or i + 1
    except Unterminated:
        return None
    return None


def find_unterminated(sql: str) -> Unterminated | None:
    """The first quote or comment of ``sql`` left open, if any: a precise reason for a
    statement the tokenizer rejects."""
    i = 0
    try:
        while (found := _OPENS_LITERAL.search(sql, i)) is not None:
            i = _skip_literal(sql, found.start()) or found.end()
    except Unterminated as problem:
        return problem
    return None


@dataclass(frozen=True)
class Unload:
    """``UNLOAD (query) TO 'location' WITH (...)`` in parts; ``location`` is None when the
    ``TO '...'`` is missing, ``with_clause`` is the text after it."""

    query: str
    location: str | None
    with_clause: str


def parse_unload(rest: str) -> Unload | None:
    """The parts of an UNLOAD after its keyword; None when no parenthesised query leads."""
    split = split_parenthesised(rest)
    if split is None:
        return None
    query, after = split
    to = _UNLOAD_TO.match(after)
    if to is None:
        return Unload(query, None, after)
    return Unload(query, to.group(1).replace("''", "'"), after[to.end() :])
