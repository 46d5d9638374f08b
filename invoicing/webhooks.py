"""Webhooks by the Standard Webhooks specification (https://www.standardwebhooks.com), the rules without I/O:
an endpoint and its signing secrets (rotation with an overlap), a delivery and its retry schedule, and the
three headers every attempt carries.

A delivery is one (public event, endpoint) pair. Its ID is derived from the event's CloudEvents ID and the
endpoint's ID, so a redelivered Kafka record makes no second delivery, and it is the `webhook-id` of every
attempt: a receiver dedupes by it. A delivery is `pending` until an attempt got a 2xx (`delivered`) or the
schedule ran out (`failed`); a worker that dies mid-attempt leaves it pending, so it is tried again.
"""

import base64
import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of every secret, not one)

# The wait after each failed attempt (Svix's schedule, stretched to just under 3 days): the first attempt
# at once, then 5 s, 5 min, 30 min, 2 h, 5 h and six times 10 h. After the 12th failure the delivery fails.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    *(timedelta(hours=10),) * 6,
)
RESPONSE_PREFIX_BYTES = 1024  # what a delivery keeps of an answer


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def new_secret() -> str:
    """A signing secret as Standard Webhooks gives it: `whsec_` and base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def delivery_id(event_id: str, endpoint_id: str) -> str:
    """The same (event, endpoint) always gives the same ID: the `webhook-id` of each of its attempts."""
    return "msg_" + hashlib.sha256(f"{event_id}:{endpoint_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SigningSecret:
    secret: str
    expires_at: datetime | None = None  # a rotated-out secret signs until then


@dataclass(frozen=True)
class Endpoint:
    id: str
    tenant: str
    url: str
    event_types: frozenset[str]
    enabled: bool
    secrets: tuple[SigningSecret, ...]  # the current one first
    created_at: datetime
    updated_at: datetime
    description: str = ""
    disabled_reason: str | None = None
    last_success_at: datetime | None = None

    def wants(self, event_type: str) -> bool:
        return self.enabled and event_type in self.event_types

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets that sign an attempt made `now`: the current one and those still in their overlap."""
        return tuple(s.secret for s in self._live(now))

    def rotated(self, secret: str, now: datetime, overlap: timedelta) -> "Endpoint":
        """A new current secret; the old one keeps signing for `overlap` (those already expiring keep theirs)."""
        kept = tuple(SigningSecret(s.secret, s.expires_at or now + overlap) for s in self._live(now))
        return replace(self, secrets=(SigningSecret(secret), *kept), updated_at=now)

    def disabled(self, reason: str, now: datetime) -> "Endpoint":
        return replace(self, enabled=False, disabled_reason=reason, updated_at=now)

    def _live(self, now: datetime) -> tuple[SigningSecret, ...]:
        return tuple(s for s in self.secrets if s.expires_at is None or s.expires_at > now)


def signature_header(secrets_: tuple[str, ...], message_id: str, timestamp: datetime, body: bytes) -> str:
    """`webhook-signature`: one `v1,<base64 HMAC-SHA256 of id.timestamp.body>` per secret, space separated."""
    return " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets_)


def webhook_headers(secrets_: tuple[str, ...], message_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature_header(secrets_, message_id, timestamp, body),
        "content-type": "application/json",
    }


@dataclass(frozen=True)
class Delivery:
    id: str
    tenant: str
    endpoint_id: str
    event_id: str
    event_type: str
    payload: str  # the body, exactly as signed
    created_at: datetime
    next_attempt_at: datetime | None
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0  # every attempt made, replays included
    step: int = 0  # failed attempts since the first or the last replay: the place in the schedule
    last_status: int | None = None
    last_error: str | None = None
    last_response: str | None = None
    last_attempt_at: datetime | None = None
    version: int = 0  # raised by each claim of an attempt: two workers never claim the same attempt

    def succeeded(self, now: datetime, status: int, response: str) -> "Delivery":
        return replace(
            self,
            state=DeliveryState.DELIVERED,
            attempts=self.attempts + 1,
            next_attempt_at=None,
            last_status=status,
            last_error=None,
            last_response=response[:RESPONSE_PREFIX_BYTES],
            last_attempt_at=now,
        )

    def failed(
        self,
        now: datetime,
        status: int | None,
        error: str,
        response: str = "",
        schedule: tuple[timedelta, ...] = RETRY_SCHEDULE,
    ) -> "Delivery":
        """The attempt failed: wait the schedule's next step, or fail for good once it ran out."""
        wait = schedule[self.step] if self.step < len(schedule) else None
        return replace(
            self,
            state=DeliveryState.PENDING if wait is not None else DeliveryState.FAILED,
            attempts=self.attempts + 1,
            step=self.step + 1,
            next_attempt_at=now + wait if wait is not None else None,
            last_status=status,
            last_error=error[:RESPONSE_PREFIX_BYTES],
            last_response=response[:RESPONSE_PREFIX_BYTES],
            last_attempt_at=now,
        )

    def replayed(self, now: datetime) -> "Delivery":
        """Once more, now, with the same webhook-id, and a fresh schedule."""
        return replace(self, state=DeliveryState.PENDING, step=0, next_attempt_at=now)


def schedule_length(schedule: tuple[timedelta, ...] = RETRY_SCHEDULE) -> timedelta:
    """From the first attempt to the last."""
    return sum(schedule, timedelta())
