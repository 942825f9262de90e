"""What the sensor compares between ticks: one cheap mark per history log.

Each engine says what its mark is (``Engine.history_mark``): aws, a digest of the first
ListQueryExecutions page of each enabled work group, one call each; local, the newest
submission time of its one log.
"""

from __future__ import annotations

from athena_catalog.engines.contract import Engine
from athena_catalog.engines.records import EngineError


def history_marks(engine: Engine, previous: dict[str, str]) -> dict[str, str]:
    """``{log: mark}``; a log whose mark differs from ``previous`` has news. A log that
    answers no mark (still empty) keeps the one it had. A work group listing throttled past
    the retry budget raises EngineError: the tick is skipped, not guessed."""
    listing = engine.list_work_groups(read_before=previous)
    if listing.throttled:
        raise EngineError(f"work groups not listed: {listing.note}", code="Throttling")
    marks = {}
    for work_group in listing.names:
        mark = engine.history_mark(work_group)
        if mark is not None:
            marks[work_group] = mark
        elif work_group in previous:
            marks[work_group] = previous[work_group]
    return marks
