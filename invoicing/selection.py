"""Which orders an AUTOMATIC job takes: the tenant's invoice settings as a query, without I/O."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from invoicing.orders import OrderStatus


@dataclass(frozen=True)
class OrderSelection:
    """Orders whose status is one of `statuses`, whose extended status is one of `extended_statuses`
    (any, when empty), and that were delivered at least `threshold` before the job was requested."""

    statuses: tuple[OrderStatus, ...]
    extended_statuses: tuple[str, ...]
    threshold: timedelta
    site_code: str | None = None  # only orders of this site (an AUTOMATIC job limited to one); None: any

    def delivered_before(self, requested_at: datetime) -> datetime:
        """The latest delivery instant that qualifies. Fixed by the job's request time, so a redelivered
        job request selects by the same rule."""
        return requested_at.astimezone(UTC) - self.threshold


def delivery_instant(delivery_date: date | datetime | None) -> datetime | None:
    """The moment an order counts as delivered, in UTC. A bare date counts from its first instant (00:00
    UTC): with a threshold of 24 hours an order delivered on 1 May is due from 2 May, 00:00 UTC."""
    if delivery_date is None:
        return None
    if isinstance(delivery_date, datetime):
        return delivery_date.astimezone(UTC)
    return datetime.combine(delivery_date, time.min, tzinfo=UTC)
