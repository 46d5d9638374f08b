"""Webhook endpoints of a tenant and their delivery log (extension; docs/webhooks.md). The URL is checked
against the rules of invoicing/webhook_urls.py here (400), and again by the worker at each attempt."""

import secrets as random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from infra.ports import WebhookStore
from infra.settings import Settings
from infra.webhook_http import Resolver, checked_url
from invoicing.webhook_urls import UnsafeUrl
from invoicing.webhooks import Delivery, DeliveryState, Endpoint, SigningSecret, new_secret
from schemas.public_events import ALL_PUBLIC_EVENTS
from schemas.webhooks_api import (
    WebhookDeliveryResponse,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointResponse,
    WebhookEndpointUpdate,
    WebhookSecretRotated,
)
from service.services.common import Conflict, InvalidRequest, NotFound

DELIVERABLE = sorted(str(model.model_fields["type"].default) for model in ALL_PUBLIC_EVENTS)


@dataclass(frozen=True)
class WebhookServices:
    settings: Settings
    webhooks: WebhookStore
    resolve: Resolver
    clock: Callable[[], datetime]

    def now(self) -> datetime:
        return self.clock()


def endpoint_response(endpoint: Endpoint, now: datetime) -> WebhookEndpointResponse:
    return WebhookEndpointResponse(**endpoint_fields(endpoint, now))


def endpoint_fields(endpoint: Endpoint, now: datetime) -> dict[str, Any]:
    rotation_ends = [s.expires_at for s in endpoint.secrets if s.expires_at is not None and s.expires_at > now]
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "eventTypes": sorted(endpoint.event_types),
        "enabled": endpoint.enabled,
        "description": endpoint.description,
        "disabledReason": endpoint.disabled_reason,
        "createdAt": endpoint.created_at,
        "updatedAt": endpoint.updated_at,
        "secretRotationEndsAt": max(rotation_ends) if rotation_ends else None,
    }


def delivery_response(delivery: Delivery) -> WebhookDeliveryResponse:
    return WebhookDeliveryResponse(
        id=delivery.id,
        eventId=delivery.event_id,
        eventType=delivery.event_type,
        state=delivery.state,
        attempts=delivery.attempts,
        lastStatusCode=delivery.last_status,
        lastError=delivery.last_error,
        lastResponse=delivery.last_response,
        lastAttemptAt=delivery.last_attempt_at,
        nextAttemptAt=delivery.next_attempt_at if delivery.state is DeliveryState.PENDING else None,
        createdAt=delivery.created_at,
    )


def checked_event_types(types: list[str]) -> frozenset[str]:
    unknown = sorted(set(types) - set(DELIVERABLE))
    if unknown:
        raise InvalidRequest(f"eventTypes: unknown event types {', '.join(unknown)}; known: {', '.join(DELIVERABLE)}")
    return frozenset(types)


async def checked(services: WebhookServices, url: str) -> str:
    try:
        await checked_url(url, services.settings, services.resolve)
    except UnsafeUrl as refused:
        raise InvalidRequest(f"url: {refused}") from None
    return url


async def owned_endpoint(services: WebhookServices, tenant: str, endpoint_id: str) -> Endpoint:
    endpoint = await services.webhooks.endpoint(tenant, endpoint_id)
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}")
    return endpoint


async def create_endpoint(
    services: WebhookServices, tenant: str, body: WebhookEndpointCreate
) -> WebhookEndpointCreated:
    event_types = checked_event_types(body.eventTypes)
    url = await checked(services, body.url)
    if len(await services.webhooks.endpoints(tenant)) >= services.settings.webhooks_max_endpoints:
        raise Conflict(f"A tenant has at most {services.settings.webhooks_max_endpoints} webhook endpoints")
    now, secret = services.now(), new_secret()
    endpoint = Endpoint(
        id="ep_" + random.token_hex(12),
        tenant=tenant,
        url=url,
        event_types=event_types,
        enabled=body.enabled,
        secrets=(SigningSecret(secret),),
        created_at=now,
        updated_at=now,
        description=body.description,
    )
    await services.webhooks.add_endpoint(endpoint)
    return WebhookEndpointCreated(**endpoint_fields(endpoint, now), secret=secret)


async def list_endpoints(services: WebhookServices, tenant: str) -> list[WebhookEndpointResponse]:
    now = services.now()
    return [endpoint_response(endpoint, now) for endpoint in await services.webhooks.endpoints(tenant)]


async def get_endpoint(services: WebhookServices, tenant: str, endpoint_id: str) -> WebhookEndpointResponse:
    return endpoint_response(await owned_endpoint(services, tenant, endpoint_id), services.now())


async def update_endpoint(
    services: WebhookServices, tenant: str, endpoint_id: str, body: WebhookEndpointUpdate
) -> WebhookEndpointResponse:
    endpoint = await owned_endpoint(services, tenant, endpoint_id)
    now = services.now()
    changed = replace(endpoint, updated_at=now)
    if body.url is not None:
        changed = replace(changed, url=await checked(services, body.url))
    if body.eventTypes is not None:
        changed = replace(changed, event_types=checked_event_types(body.eventTypes))
    if body.description is not None:
        changed = replace(changed, description=body.description)
    if body.enabled is not None:
        changed = replace(changed, enabled=body.enabled, disabled_reason=None)
    await services.webhooks.save_endpoint(changed)
    return endpoint_response(changed, now)


async def delete_endpoint(services: WebhookServices, tenant: str, endpoint_id: str) -> None:
    if not await services.webhooks.delete_endpoint(tenant, endpoint_id):
        raise NotFound(f"No webhook endpoint {endpoint_id}")


async def rotate_secret(services: WebhookServices, tenant: str, endpoint_id: str) -> WebhookSecretRotated:
    endpoint = await owned_endpoint(services, tenant, endpoint_id)
    now, secret = services.now(), new_secret()
    overlap = timedelta(hours=services.settings.webhooks_secret_overlap_hours)
    await services.webhooks.save_endpoint(endpoint.rotated(secret, now, overlap))
    return WebhookSecretRotated(secret=secret, previousSecretExpiresAt=now + overlap)


async def list_deliveries(
    services: WebhookServices, tenant: str, endpoint_id: str, limit: int
) -> list[WebhookDeliveryResponse]:
    await owned_endpoint(services, tenant, endpoint_id)
    return [delivery_response(d) for d in await services.webhooks.deliveries(tenant, endpoint_id, limit)]


async def replay_delivery(
    services: WebhookServices, tenant: str, endpoint_id: str, delivery_id: str
) -> WebhookDeliveryResponse:
    endpoint = await owned_endpoint(services, tenant, endpoint_id)
    delivery = await services.webhooks.delivery(tenant, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise NotFound(f"No delivery {delivery_id} of webhook endpoint {endpoint_id}")
    if not endpoint.enabled:
        raise Conflict(f"Webhook endpoint {endpoint_id} is disabled: enable it first")
    replayed = delivery.replayed(services.now())
    await services.webhooks.save_delivery(replayed)
    return delivery_response(replayed)
