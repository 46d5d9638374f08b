"""The webhook registration API's wire format (extension; docs/webhooks.md): endpoints, their one-time
secret, and their delivery log."""

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from invoicing.webhooks import DeliveryState

__all__ = [
    "DeliveryState",
    "WebhookDeliveryList",
    "WebhookDeliveryResponse",
    "WebhookEndpointCreate",
    "WebhookEndpointCreated",
    "WebhookEndpointList",
    "WebhookEndpointResponse",
    "WebhookEndpointUpdate",
    "WebhookSecretRotated",
]

WebhookUrlText = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebhookUrlText = Field(description="https URL the events are POSTed to")
    eventTypes: list[EventType] = Field(min_length=1, max_length=32, description="Public event types to deliver")
    enabled: bool = True
    description: Annotated[str, StringConstraints(max_length=256)] = ""


class WebhookEndpointUpdate(BaseModel):
    """What to change; an absent field stays as it is. Enabling a disabled endpoint clears its reason."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookUrlText | None = None
    eventTypes: list[EventType] | None = Field(default=None, min_length=1, max_length=32)
    enabled: bool | None = None
    description: Annotated[str, StringConstraints(max_length=256)] | None = None


class WebhookEndpointResponse(BaseModel):
    id: str
    url: str
    eventTypes: list[str]
    enabled: bool
    description: str
    disabledReason: str | None = None
    createdAt: datetime
    updatedAt: datetime
    secretRotationEndsAt: AwareDatetime | None = Field(
        default=None, description="Until then an earlier secret signs too (after a rotation)"
    )


class WebhookEndpointCreated(WebhookEndpointResponse):
    secret: str = Field(description="The signing secret (whsec_...): shown this once, never again")


class WebhookSecretRotated(BaseModel):
    secret: str = Field(description="The new signing secret: shown this once")
    previousSecretExpiresAt: AwareDatetime = Field(description="Until then the previous secret signs too")


class WebhookEndpointList(BaseModel):
    items: list[WebhookEndpointResponse]


class WebhookDeliveryResponse(BaseModel):
    id: str = Field(description="The webhook-id header of every attempt")
    eventId: str = Field(description="The event's CloudEvents ID (ce_id on invoice-events)")
    eventType: str
    state: DeliveryState
    attempts: int
    lastStatusCode: int | None = None
    lastError: str | None = None
    lastResponse: str | None = Field(default=None, description="At most the first 1 KiB of the last answer")
    lastAttemptAt: datetime | None = None
    nextAttemptAt: datetime | None = None
    createdAt: datetime


class WebhookDeliveryList(BaseModel):
    items: list[WebhookDeliveryResponse]
