"""Statement fingerprints: one parse per distinct statement shape, however often it runs.

Dashboards and ETL re-run the same SQL with new dates and ids, so literals and whitespace are
normalized away. S3 URIs are kept: they are lineage targets (UNLOAD) and sources (LOCATION).
"""

from __future__ import annotations

import hashlib
import re

# Bump when parsing rules change: cached results of older rules are then ignored.
# 2: join keys; 3: names quoted where a part holds a dot or quote; 4: precise parse errors;
# 5: query bodies in parentheses, per-column degradation, warnings, column roles, _colN names
PARSER_VERSION = "5"

# Comments, string literals, quoted identifiers, numbers and whitespace runs; everything
# else is copied in lower case. Unrolled quote loops keep the scan linear and fast; an
# unterminated block comment runs to the end (else every later "/*" rescans the rest).
_TOKENS = re.compile(
    r"--[^\n]*|/\*[^*]*(?:\*+[^*/][^*]*)*\**(?:/|\Z)"
    r"|'[^']*(?:''[^']*)*'"
    r'|"[^"]*(?:""[^"]*)*"|`[^`]*`'
    r"|(?<![\w$])\d+(?:\.\d*)?(?:[eE][+-]?\d+)?"
    r"|\s+"
)


def normalize(sql: str) -> str:
    """The statement with comments dropped, literals as ``?``, whitespace collapsed, and
    everything but S3 URIs in lower case (Athena identifiers are case-insensitive)."""
    lowered = sql.lower()
    # S3 keys are case-sensitive: their literals are copied from the original text, which
    # lines up with the lowered one unless lower-casing changed a character's length.
    original = sql if len(lowered) == len(sql) else lowered

    def token(m: re.Match[str]) -> str:
        text = m.group()
        first = text[0]
        if first == "'":
            return original[m.start() : m.end()] if text[1:4] in _S3 else "?"
        if first in '"`':
            return text
        return "?" if first.isdigit() else " "  # numbers; whitespace and comments

    return " ".join(_TOKENS.sub(token, lowered).split())


_S3 = ("s3:", "s3a", "s3n")


def fingerprint(sql: str, catalog: str | None, database: str | None) -> str:
    """The cache key of a statement run in a catalog/database context."""
    key = "\x1f".join((PARSER_VERSION, (catalog or "").lower(), (database or "").lower()))
    return hashlib.blake2b(f"{key}\x1e{normalize(sql)}".encode(), digest_size=16).hexdigest()
