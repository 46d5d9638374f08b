"""The clock: "now" is injected wherever it matters, so tests move time instead of sleeping.

`utc_now` is the one definition of the real clock (schemas/events.py re-exports it for its callers).
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


def offset_clock(seconds: float) -> Clock:
    """The real clock moved by `seconds` (INVOICE_CLOCK_OFFSET_SECONDS): how a test moves a worker process's
    time; 0 is the real clock itself."""
    if not seconds:
        return utc_now
    offset = timedelta(seconds=seconds)

    def now() -> datetime:
        return utc_now() + offset

    return now
