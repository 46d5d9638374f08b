"""Capturing an order's authorised payment for its invoice, once: a step of the pipeline
(streams/pipeline.py), which fails the order with a CaptureFailed's message, reason class "payment"."""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from infra.payments import CaptureDeclined, GatewayError, GatewayUnavailable
from infra.ports import CaptureStore, PaymentCapturer
from infra.records import CaptureRecord
from invoicing.payments import CapturedPayment, CaptureNotPossible, CaptureRequest, capture_request
from invoicing.recalculation import Totals
from schemas.orders import Order

log = logging.getLogger(__name__)


class CaptureFailed(Exception):
    """The order cannot be invoiced for its payment; the message says why. Nothing is recorded."""


class CapturePorts(Protocol):
    """What the capture needs of the pipeline's ports (PipelineDeps has them)."""

    @property
    def captures(self) -> CaptureStore: ...
    @property
    def payments(self) -> PaymentCapturer: ...
    @property
    def now(self) -> Callable[[], datetime]: ...


def expected_capture(
    tenant: str, order: Order, totals: Totals, at: datetime, generation: int
) -> CapturedPayment | None:
    """The capture the order will get, as the invoice document will record it (None when it needs none,
    or cannot have one: capture_payment then rejects the order)."""
    try:
        request: CaptureRequest | None = capture_request(tenant, order, totals, generation)
    except CaptureNotPossible:
        return None
    return None if request is None else CapturedPayment(method=request.method, captured_at=at)


async def capture_payment(
    tenant: str, order: Order, totals: Totals, deps: CapturePorts, generation: int
) -> CapturedPayment | None:
    """Capture the order's authorised payment through the gateway, or None when the order needs no capture.

    A confirmed capture is recorded before anything else happens, so a redelivered order (a crash, a
    NumberTaken retry) finds it and never asks the gateway again; the gateway's idempotency key covers
    the gap between its answer and the record. Both are per invoice (`generation`): an order invoiced
    again after a full credit is captured anew, never answered with its earlier invoice's capture. A
    decline or an unreachable gateway records nothing and fails the order without a number: a later job
    may try again."""
    try:
        request = capture_request(tenant, order, totals, generation)
    except CaptureNotPossible as reason:
        raise CaptureFailed(f"Order {order.id} not invoiced: {reason}") from None
    if request is None:
        return None
    recorded = await deps.captures.find(tenant, order.id, generation)
    if recorded is None:
        try:
            capture = await deps.payments.capture(request)
        except CaptureDeclined as declined:
            raise CaptureFailed(f"Order {order.id} not invoiced: the payment was declined: {declined.reason}") from None
        except GatewayUnavailable as unavailable:
            # The gateway may have captured without its answer arriving: a later job asks again with the
            # same idempotency key, which the gateway answers with that capture instead of charging again.
            raise CaptureFailed(
                f"Order {order.id} not invoiced: payment capture not confirmed, {unavailable}; "
                "a later job can invoice the order (with the same idempotency key, so it is never charged twice)"
            ) from None
        except GatewayError as error:
            raise CaptureFailed(f"Order {order.id} not invoiced: payment capture failed, {error}") from None
        recorded = await deps.captures.record(
            tenant=tenant,
            order_id=order.id,
            generation=generation,
            idempotency_key=request.idempotency_key,
            record=CaptureRecord(
                transaction_id=request.transaction_id,
                amount=request.amount,
                currency=request.currency,
                method=request.method,
                capture_id=capture.capture_id,
                captured_at=deps.now(),
            ),
        )
        log.info("payment captured", extra={"tenant": tenant, "order": order.id, "capture": capture.capture_id})
    return CapturedPayment(method=recorded.method, captured_at=recorded.captured_at)
