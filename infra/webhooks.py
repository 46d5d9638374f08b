"""Webhook endpoints and deliveries in MongoDB (collections `webhook_endpoints`, `webhook_deliveries`).

Every query has an index-served equality part (infra/db.py): a tenant's endpoints by `tenant`; an
endpoint's delivery log by (`tenant`, `endpointId`); the due deliveries by `state: "pending"` and then
the range on `nextAttemptAt`. A delivery leaves `pending` with its 2xx (or when its schedule ran out), so
the equality part finds only the deliveries still to make, however long the log grows. A claim raises
`version` by a write conditional on the version read (an atomic single-document update), so two workers
never make the same attempt. Signing secrets are sealed (AES-GCM) when INVOICE_WEBHOOKS_SECRET_KEY is set.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from infra.secret_box import NoBox, SecretBox
from infra.settings import Settings
from invoicing.webhooks import Delivery, DeliveryState, Endpoint, SigningSecret

Document = dict[str, Any]


class Box(Protocol):
    """Seals a secret for the store and opens it again (infra/secret_box.py)."""

    def seal(self, secret: str) -> str: ...

    def open(self, stored: str) -> str: ...


def endpoint_document(endpoint: Endpoint, box: Box) -> Document:
    return {
        "_id": endpoint.id,
        "tenant": endpoint.tenant,
        "url": endpoint.url,
        "eventTypes": sorted(endpoint.event_types),
        "enabled": endpoint.enabled,
        "secrets": [{"secret": box.seal(s.secret), "expiresAt": s.expires_at} for s in endpoint.secrets],
        "createdAt": endpoint.created_at,
        "updatedAt": endpoint.updated_at,
        "description": endpoint.description,
        "disabledReason": endpoint.disabled_reason,
        "lastSuccessAt": endpoint.last_success_at,
    }


def endpoint_of(doc: Document, box: Box) -> Endpoint:
    return Endpoint(
        id=doc["_id"],
        tenant=doc["tenant"],
        url=doc["url"],
        event_types=frozenset(doc["eventTypes"]),
        enabled=doc["enabled"],
        secrets=tuple(SigningSecret(box.open(s["secret"]), s.get("expiresAt")) for s in doc["secrets"]),
        created_at=doc["createdAt"],
        updated_at=doc["updatedAt"],
        description=doc.get("description", ""),
        disabled_reason=doc.get("disabledReason"),
        last_success_at=doc.get("lastSuccessAt"),
    )


def delivery_document(delivery: Delivery) -> Document:
    return {
        "_id": delivery.id,
        "tenant": delivery.tenant,
        "endpointId": delivery.endpoint_id,
        "eventId": delivery.event_id,
        "eventType": delivery.event_type,
        "payload": delivery.payload,
        "createdAt": delivery.created_at,
        "nextAttemptAt": delivery.next_attempt_at,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "step": delivery.step,
        "lastStatus": delivery.last_status,
        "lastError": delivery.last_error,
        "lastResponse": delivery.last_response,
        "lastAttemptAt": delivery.last_attempt_at,
        "version": delivery.version,
    }


def delivery_of(doc: Document) -> Delivery:
    return Delivery(
        id=doc["_id"],
        tenant=doc["tenant"],
        endpoint_id=doc["endpointId"],
        event_id=doc["eventId"],
        event_type=doc["eventType"],
        payload=doc["payload"],
        created_at=doc["createdAt"],
        next_attempt_at=doc.get("nextAttemptAt"),
        state=DeliveryState(doc["state"]),
        attempts=doc.get("attempts", 0),
        step=doc.get("step", 0),
        last_status=doc.get("lastStatus"),
        last_error=doc.get("lastError"),
        last_response=doc.get("lastResponse"),
        last_attempt_at=doc.get("lastAttemptAt"),
        version=doc.get("version", 0),
    )


class WebhookRepository:
    def __init__(self, db: AsyncDatabase[Document], box: Box | None = None) -> None:
        self.box: Box = box or NoBox()
        self.endpoints_ = db.webhook_endpoints
        self.deliveries_ = db.webhook_deliveries

    async def add_endpoint(self, endpoint: Endpoint) -> None:
        await self.endpoints_.insert_one(endpoint_document(endpoint, self.box))

    async def endpoint(self, tenant: str, endpoint_id: str) -> Endpoint | None:
        doc = await self.endpoints_.find_one({"_id": endpoint_id, "tenant": tenant})
        return None if doc is None else endpoint_of(doc, self.box)

    async def endpoints(self, tenant: str) -> list[Endpoint]:
        cursor = self.endpoints_.find({"tenant": tenant}).sort([("createdAt", 1), ("_id", 1)])
        return [endpoint_of(doc, self.box) async for doc in cursor]

    async def save_endpoint(self, endpoint: Endpoint) -> None:
        await self.endpoints_.replace_one(
            {"_id": endpoint.id, "tenant": endpoint.tenant}, endpoint_document(endpoint, self.box)
        )

    async def delete_endpoint(self, tenant: str, endpoint_id: str) -> bool:
        deleted = await self.endpoints_.delete_one({"_id": endpoint_id, "tenant": tenant})
        await self.deliveries_.delete_many({"tenant": tenant, "endpointId": endpoint_id})
        return deleted.deleted_count == 1

    async def add_delivery(self, delivery: Delivery) -> bool:
        try:
            await self.deliveries_.insert_one(delivery_document(delivery))
        except DuplicateKeyError:
            return False
        return True

    async def delivery(self, tenant: str, delivery_id: str) -> Delivery | None:
        doc = await self.deliveries_.find_one({"_id": delivery_id, "tenant": tenant})
        return None if doc is None else delivery_of(doc)

    async def deliveries(self, tenant: str, endpoint_id: str, limit: int) -> list[Delivery]:
        query = {"tenant": tenant, "endpointId": endpoint_id}
        cursor = self.deliveries_.find(query).sort([("createdAt", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return [delivery_of(doc) async for doc in cursor]

    async def due(self, now: datetime, limit: int, exclude_endpoints: Sequence[str] = ()) -> list[Delivery]:
        query: Document = {"state": DeliveryState.PENDING.value, "nextAttemptAt": {"$lte": now}}
        if exclude_endpoints:
            query["endpointId"] = {"$nin": list(exclude_endpoints)}
        cursor = self.deliveries_.find(query).sort([("nextAttemptAt", 1), ("_id", 1)]).limit(limit)
        return [delivery_of(doc) async for doc in cursor]

    async def claim(self, delivery: Delivery, lease_until: datetime) -> Delivery | None:
        claimed = await self.deliveries_.find_one_and_update(
            {"_id": delivery.id, "state": DeliveryState.PENDING.value, "version": delivery.version},
            {"$set": {"nextAttemptAt": lease_until, "version": delivery.version + 1}},
            return_document=ReturnDocument.AFTER,
        )
        return None if claimed is None else delivery_of(claimed)

    async def mark_success(self, tenant: str, endpoint_id: str, at: datetime) -> None:
        await self.endpoints_.update_one({"_id": endpoint_id, "tenant": tenant}, {"$set": {"lastSuccessAt": at}})

    async def save_delivery(self, delivery: Delivery) -> None:
        await self.deliveries_.replace_one({"_id": delivery.id}, delivery_document(delivery))


def webhook_repository(db: AsyncDatabase[Document], settings: Settings) -> WebhookRepository:
    """The store of `settings`: secrets sealed under INVOICE_WEBHOOKS_SECRET_KEY when it is set."""
    key = settings.webhooks_secret_key
    return WebhookRepository(db, SecretBox(key.get_secret_value()) if key is not None else None)
