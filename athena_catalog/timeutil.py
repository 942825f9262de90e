"""UTC everywhere: one place that decides what a naive time means and how times are written.

boto3, SQLite and some stores hand back naive datetimes; they are all UTC here, so a naive
value is stamped UTC and an aware one converted, never shifted by the machine's zone.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC: naive times are taken as UTC, aware ones converted."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_utc(value: datetime | None) -> str | None:
    """One fixed-width UTC text (microseconds always written), so text order is time order."""
    return None if value is None else as_utc(value).isoformat(timespec="microseconds")
