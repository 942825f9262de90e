"""Include / exclude filter patterns, as OpenMetadata's ``*FilterPattern`` options define them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


class InvalidFilterError(ValueError):
    """A filter pattern that does not compile; raised before any call to Athena or Glue."""


@dataclass(frozen=True)
class FilterPattern:
    """Keeps a name when it matches an include (or there are none) and matches no exclude.

    Matching is case-insensitive and anchored at the start of the plain name (``re.match``),
    like OpenMetadata's filters: ``sales`` keeps ``sales`` and ``sales_eu``, ``^sales$`` only
    ``sales``.
    """

    includes: tuple[re.Pattern[str], ...] = ()
    excludes: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def compile(
        cls, includes: Sequence[str] = (), excludes: Sequence[str] = (), *, option: str = "filter"
    ) -> FilterPattern:
        return cls(
            includes=_compile_all(includes, f"{option}.includes"),
            excludes=_compile_all(excludes, f"{option}.excludes"),
        )

    def keeps(self, name: str) -> bool:
        if self.includes and not any(p.match(name) for p in self.includes):
            return False
        return not any(p.match(name) for p in self.excludes)

    @property
    def is_empty(self) -> bool:
        return not self.includes and not self.excludes


def _compile_all(patterns: Sequence[str], where: str) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for i, pattern in enumerate(patterns):
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as e:
            raise InvalidFilterError(
                f"{where}[{i}]: {pattern!r} is not a valid regular expression: {e}"
            ) from None
    return tuple(compiled)
