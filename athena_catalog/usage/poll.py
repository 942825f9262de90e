"""What the sensor compares between ticks: one cheap mark per work group.

aws: a digest of the first ListQueryExecutions page (newest ids) of each enabled work group,
one call each: any new execution changes its page. local: the newest submission time in the
engine's log (rows added with exactly that time are seen on the next change).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from athena_catalog.usage.ingest import LOCAL_CURSOR


def history_marks(engine: Any, previous: dict[str, str]) -> dict[str, str]:
    """``{work group: mark}``; a work group whose mark differs from ``previous`` has news."""
    if engine.kind == "aws":
        marks = {}
        for work_group in engine.list_work_groups().names:
            ids = engine.newest_query_ids(work_group)
            if ids:
                marks[work_group] = hashlib.sha1("\n".join(sorted(ids)).encode()).hexdigest()
        return marks
    since = previous.get(LOCAL_CURSOR)
    history = engine.query_history(datetime.fromisoformat(since) if since else None)
    newest = max((q.submitted_at for q in history), default=None)
    if newest is None:
        return dict(previous)
    return {LOCAL_CURSOR: newest.isoformat()}
