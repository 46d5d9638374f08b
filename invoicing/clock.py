"""The clock: "now" is injected wherever it matters, so tests move time instead of sleeping.

`utc_now` is the one definition of the real clock (schemas/events.py re-exports it for its callers).
"""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)
