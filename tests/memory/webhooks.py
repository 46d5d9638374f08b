"""In-memory fake of the webhook store (infra/webhooks.py), with the same claim rule: one claim per version."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from invoicing.webhooks import Delivery, DeliveryState, Endpoint


class MemoryWebhooks:
    def __init__(self) -> None:
        self.endpoints_: dict[str, Endpoint] = {}
        self.deliveries_: dict[str, Delivery] = {}

    async def add_endpoint(self, endpoint: Endpoint) -> None:
        self.endpoints_[endpoint.id] = endpoint

    async def endpoint(self, tenant: str, endpoint_id: str) -> Endpoint | None:
        found = self.endpoints_.get(endpoint_id)
        return found if found is not None and found.tenant == tenant else None

    async def endpoints(self, tenant: str) -> list[Endpoint]:
        mine = [e for e in self.endpoints_.values() if e.tenant == tenant]
        return sorted(mine, key=lambda e: (e.created_at, e.id))

    async def save_endpoint(self, endpoint: Endpoint) -> None:
        if await self.endpoint(endpoint.tenant, endpoint.id) is not None:
            self.endpoints_[endpoint.id] = endpoint

    async def delete_endpoint(self, tenant: str, endpoint_id: str) -> bool:
        if await self.endpoint(tenant, endpoint_id) is None:
            return False
        del self.endpoints_[endpoint_id]
        self.deliveries_ = {k: d for k, d in self.deliveries_.items() if d.endpoint_id != endpoint_id}
        return True

    async def add_delivery(self, delivery: Delivery) -> bool:
        if delivery.id in self.deliveries_:
            return False
        self.deliveries_[delivery.id] = delivery
        return True

    async def delivery(self, tenant: str, delivery_id: str) -> Delivery | None:
        found = self.deliveries_.get(delivery_id)
        return found if found is not None and found.tenant == tenant else None

    async def deliveries(self, tenant: str, endpoint_id: str, limit: int) -> list[Delivery]:
        mine = [d for d in self.deliveries_.values() if d.tenant == tenant and d.endpoint_id == endpoint_id]
        return sorted(mine, key=lambda d: (d.created_at, d.id), reverse=True)[:limit]

    async def due(self, now: datetime, limit: int, exclude_endpoints: Sequence[str] = ()) -> list[Delivery]:
        due = [
            d
            for d in self.deliveries_.values()
            if d.state is DeliveryState.PENDING
            and d.next_attempt_at is not None
            and d.next_attempt_at <= now
            and d.endpoint_id not in exclude_endpoints
        ]
        return sorted(due, key=lambda d: (d.next_attempt_at or now, d.id))[:limit]

    async def claim(self, delivery: Delivery, lease_until: datetime) -> Delivery | None:
        stored = self.deliveries_.get(delivery.id)
        if stored is None or stored.state is not DeliveryState.PENDING or stored.version != delivery.version:
            return None
        claimed = replace(stored, next_attempt_at=lease_until, version=stored.version + 1)
        self.deliveries_[delivery.id] = claimed
        return claimed

    async def mark_success(self, tenant: str, endpoint_id: str, at: datetime) -> None:
        found = await self.endpoint(tenant, endpoint_id)
        if found is not None:
            self.endpoints_[endpoint_id] = replace(found, last_success_at=at)

    async def save_delivery(self, delivery: Delivery) -> None:
        if delivery.id in self.deliveries_:
            self.deliveries_[delivery.id] = delivery
