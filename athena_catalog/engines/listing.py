"""A listing's answer that also says whether it is complete.

An engine sometimes answers with less than the whole truth and knows it: ListDataCatalogs
denied (only AwsDataCatalog is cataloged), one catalog that cannot be described, Lake Formation
denied while resource tags were read. Such an answer is still worth keeping, but it must never
be taken as proof that what it lacks is gone. ``Listed`` and ``ListedTags`` are the plain list
and dict callers already use, plus ``incomplete``: why the answer is partial, or None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

T = TypeVar("T")
TagMap = dict[tuple[str, str], dict[str, str]]


class Listed(list[T]):
    """Items of a listing; ``incomplete`` says why they may not be all of them."""

    def __init__(self, items: Iterable[T] = (), incomplete: str | None = None):
        super().__init__(items)
        self.incomplete = incomplete


class ListedTags(TagMap):
    """Tags per (database, table); ``incomplete`` says which tag read failed, if one did."""

    def __init__(
        self,
        tags: Mapping[tuple[str, str], dict[str, str]] | None = None,
        incomplete: str | None = None,
    ):
        super().__init__(tags or {})
        self.incomplete = incomplete


def incomplete(answer: object) -> str | None:
    """Why an engine's answer is partial; None for a complete one (or a plain list/dict)."""
    return getattr(answer, "incomplete", None)
