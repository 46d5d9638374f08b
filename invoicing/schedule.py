"""When a tenant's scheduled AUTOMATIC job is due: a cron expression read in the tenant's time zone.

Only the latest due time counts: a worker that was down over several due times starts one job when it
is back, not one per missed time (AUTOMATIC jobs take every due order anyway).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter


def latest_due(expression: str, time_zone: str, now: datetime) -> datetime:
    """The latest due time at or before `now` (to the minute), in UTC; the cron fields are read in
    `time_zone` (DST included). Always a whole minute, whenever within the minute it is asked."""
    minute = now.astimezone(ZoneInfo(time_zone)).replace(second=0, microsecond=0)
    # croniter's get_prev is strictly before its start: start just after the minute, so the minute counts.
    previous: datetime = croniter(expression, minute + timedelta(seconds=1)).get_prev(datetime)
    return previous.astimezone(UTC)
