"""Extension: webhook endpoints of a tenant (scope `invoice.invoice_manage` to change, `invoice.invoice_read`
to read). Every public event of the tenant that an endpoint takes is POSTed to it, signed by the Standard
Webhooks specification (docs/webhooks.md)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response

from schemas.webhooks_api import (
    WebhookDeliveryList,
    WebhookDeliveryResponse,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointList,
    WebhookEndpointResponse,
    WebhookEndpointUpdate,
    WebhookSecretRotated,
)
from service.auth import ManageScope, ReadScope
from service.dependencies import Tenant, Webhooks
from service.errors import error_responses
from service.services import webhooks as service

router = APIRouter(tags=["Webhooks (extension)"])
EndpointId = Annotated[str, Path(max_length=64)]
BASE = "/invoice/{tenant}/webhooks"

CREATE_EXAMPLES: dict[str, Any] = {
    "erp": {
        "summary": "Invoices and credit notes to the ERP",
        "value": {
            "url": "https://erp.example.com/hooks/invoices",
            "eventTypes": ["invoice.issued", "credit_note.issued", "invoice.paid"],
            "description": "ERP booking",
        },
    }
}
UPDATE_EXAMPLES: dict[str, Any] = {
    "enable": {"summary": "Enable a disabled endpoint again", "value": {"enabled": True}},
    "types": {"summary": "Change the event types", "value": {"eventTypes": ["invoice.issued", "job.completed"]}},
}


@router.post(
    BASE,
    dependencies=[ManageScope],
    operation_id="POST-invoice-create-webhook",
    summary="Registering a webhook endpoint",
    description=(
        "The URL must be https and may not resolve to loopback, private, link-local, CGNAT, multicast or "
        "metadata addresses (400 naming why). The answer holds the signing secret (`whsec_...`) this once."
    ),
    status_code=201,
    responses=error_responses(400, 401, 403, 409, 500, 503),
)
async def create_webhook(
    tenant: Tenant,
    body: Annotated[WebhookEndpointCreate, Body(openapi_examples=CREATE_EXAMPLES)],
    webhooks: Webhooks,
) -> WebhookEndpointCreated:
    return await service.create_endpoint(webhooks, tenant, body)


@router.get(
    BASE,
    dependencies=[ReadScope],
    operation_id="GET-invoice-list-webhooks",
    summary="Listing the webhook endpoints",
    responses=error_responses(401, 403, 500, 503),
)
async def list_webhooks(tenant: Tenant, webhooks: Webhooks) -> WebhookEndpointList:
    return WebhookEndpointList(items=await service.list_endpoints(webhooks, tenant))


@router.get(
    BASE + "/{endpointId}",
    dependencies=[ReadScope],
    operation_id="GET-invoice-retrieve-webhook",
    summary="Returning a webhook endpoint (never its secret)",
    responses=error_responses(401, 403, 404, 500, 503),
)
async def get_webhook(tenant: Tenant, endpointId: EndpointId, webhooks: Webhooks) -> WebhookEndpointResponse:
    return await service.get_endpoint(webhooks, tenant, endpointId)


@router.patch(
    BASE + "/{endpointId}",
    dependencies=[ManageScope],
    operation_id="PATCH-invoice-update-webhook",
    summary="Changing a webhook endpoint (URL, event types, enabled, description)",
    responses=error_responses(400, 401, 403, 404, 500, 503),
)
async def update_webhook(
    tenant: Tenant,
    endpointId: EndpointId,
    body: Annotated[WebhookEndpointUpdate, Body(openapi_examples=UPDATE_EXAMPLES)],
    webhooks: Webhooks,
) -> WebhookEndpointResponse:
    return await service.update_endpoint(webhooks, tenant, endpointId, body)


@router.delete(
    BASE + "/{endpointId}",
    dependencies=[ManageScope],
    operation_id="DELETE-invoice-remove-webhook",
    summary="Removing a webhook endpoint and its delivery log",
    status_code=204,
    responses=error_responses(401, 403, 404, 500, 503),
)
async def delete_webhook(tenant: Tenant, endpointId: EndpointId, webhooks: Webhooks) -> Response:
    await service.delete_endpoint(webhooks, tenant, endpointId)
    return Response(status_code=204)


@router.post(
    BASE + "/{endpointId}/rotate-secret",
    dependencies=[ManageScope],
    operation_id="POST-invoice-rotate-webhook-secret",
    summary="Rotating a webhook endpoint's signing secret",
    description=(
        "A new secret, shown this once. Until `previousSecretExpiresAt` (INVOICE_WEBHOOKS_SECRET_OVERLAP_HOURS, "
        "24 h) every attempt is signed with both: `webhook-signature` holds one `v1,` signature per secret."
    ),
    responses=error_responses(401, 403, 404, 500, 503),
)
async def rotate_webhook_secret(tenant: Tenant, endpointId: EndpointId, webhooks: Webhooks) -> WebhookSecretRotated:
    return await service.rotate_secret(webhooks, tenant, endpointId)


@router.get(
    BASE + "/{endpointId}/deliveries",
    dependencies=[ReadScope],
    operation_id="GET-invoice-list-webhook-deliveries",
    summary="The delivery log of a webhook endpoint, newest first",
    responses=error_responses(400, 401, 403, 404, 500, 503),
)
async def list_webhook_deliveries(
    tenant: Tenant, endpointId: EndpointId, webhooks: Webhooks, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> WebhookDeliveryList:
    return WebhookDeliveryList(items=await service.list_deliveries(webhooks, tenant, endpointId, limit))


@router.post(
    BASE + "/{endpointId}/deliveries/{deliveryId}/replay",
    dependencies=[ManageScope],
    operation_id="POST-invoice-replay-webhook-delivery",
    summary="Delivering once more (the same webhook-id), with a fresh retry schedule",
    status_code=202,
    responses=error_responses(401, 403, 404, 409, 500, 503),
)
async def replay_webhook_delivery(
    tenant: Tenant, endpointId: EndpointId, deliveryId: Annotated[str, Path(max_length=64)], webhooks: Webhooks
) -> WebhookDeliveryResponse:
    return await service.replay_delivery(webhooks, tenant, endpointId, deliveryId)
