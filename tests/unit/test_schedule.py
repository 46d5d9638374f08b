"""When a schedule is due: always a whole minute, the latest at or before now, read in the tenant's zone."""

from datetime import UTC, datetime

import pytest

from invoicing.schedule import latest_due


@pytest.mark.parametrize(
    ("expression", "zone", "now", "due"),
    [
        # Asked within the due minute, even in its first second: that minute, never `now` itself.
        ("* * * * *", "UTC", datetime(2026, 11, 29, 23, 32, 0, 700000, tzinfo=UTC), datetime(2026, 11, 29, 23, 32)),
        ("* * * * *", "UTC", datetime(2026, 11, 29, 23, 32, 59, 999999, tzinfo=UTC), datetime(2026, 11, 29, 23, 32)),
        ("30 23 * * *", "UTC", datetime(2026, 11, 29, 23, 30, tzinfo=UTC), datetime(2026, 11, 29, 23, 30)),
        ("30 23 * * *", "UTC", datetime(2026, 11, 29, 23, 29, 59, tzinfo=UTC), datetime(2026, 11, 28, 23, 30)),
        # 02:00 in Berlin is 01:00 UTC in winter and 00:00 UTC in summer.
        ("0 2 * * *", "Europe/Berlin", datetime(2026, 11, 29, 12, tzinfo=UTC), datetime(2026, 11, 29, 1)),
        ("0 2 * * *", "Europe/Berlin", datetime(2026, 7, 1, 12, tzinfo=UTC), datetime(2026, 7, 1, 0)),
        # Days of missed times: only the latest.
        ("0 2 * * *", "UTC", datetime(2026, 12, 3, 1, tzinfo=UTC), datetime(2026, 12, 2, 2)),
    ],
)
def test_latest_due_time(expression: str, zone: str, now: datetime, due: datetime) -> None:
    assert latest_due(expression, zone, now) == due.replace(tzinfo=UTC)
