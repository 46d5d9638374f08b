"""Which orders need their payment captured before they are invoiced, and what is captured.

No I/O: the gateway adapter (`infra/payments.py`) sends what `capture_request` decides, and the
pipeline records the outcome. An order is captured at most once: an order already CAPTURED, or paid
later (method `invoice`, status PENDING), needs no capture.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from invoicing.identity import FIRST_INVOICE, invoice_identity
from invoicing.orders import OrderInput, PaymentInput, PaymentStatus
from invoicing.recalculation import Totals

PAY_ON_INVOICE = "invoice"


@dataclass(frozen=True)
class CaptureRequest:
    """Capture `amount` of the authorised transaction; the key makes a repeated request harmless."""

    transaction_id: str
    amount: Decimal
    currency: str
    idempotency_key: str
    method: str


@dataclass(frozen=True)
class CapturedPayment:
    """A capture the gateway confirmed: what the invoice says about the payment."""

    method: str
    captured_at: datetime


class CaptureNotPossible(Exception):
    """The order asks for a capture that cannot be made; the message says why."""


def payment_to_capture(order: OrderInput) -> PaymentInput | None:
    """The order's authorised payment, unless the order is paid already or is paid on invoice."""
    if any(payment.status is PaymentStatus.CAPTURED for payment in order.payments):
        return None
    authorized = [
        payment
        for payment in order.payments
        if payment.status is PaymentStatus.AUTHORIZED and payment.method.lower() != PAY_ON_INVOICE
    ]
    if len(authorized) > 1:
        # Which share of the total to take from which authorisation is not the invoice's to decide.
        raise CaptureNotPossible(f"it has {len(authorized)} authorised payments; only one can be captured")
    return authorized[0] if authorized else None


def idempotency_key(tenant: str, order_id: str, generation: int = FIRST_INVOICE) -> str:
    """The same for every attempt to capture the payment for one invoice of an order, whichever worker or
    job makes it. An order invoiced again (its `generation`th invoice, after a full credit) is a new capture
    with a key of its own: the gateway must not answer it with the capture of the earlier invoice.

    Order IDs are free text (any character, up to 64), so the key is a hash of the invoice's identity:
    always a valid header value of fixed length. The first invoice's key is what it was before orders
    could be invoiced again."""
    digest = hashlib.sha256(invoice_identity(tenant, order_id, generation).encode()).hexdigest()
    return f"invoice-capture-{digest}"


def capture_request(
    tenant: str, order: OrderInput, totals: Totals, generation: int = FIRST_INVOICE
) -> CaptureRequest | None:
    """What to capture before `order` is invoiced (for its `generation`th invoice), or None when nothing is
    to be captured. The invoice's gross total is captured, as recalculated (the order's own figures agreed
    with it already)."""
    payment = payment_to_capture(order)
    if payment is None:
        return None
    if not payment.transactionId:
        raise CaptureNotPossible(f"its authorised {payment.method} payment has no transactionId to capture")
    if payment.authorizedAmount is not None and payment.authorizedAmount < totals.total:
        raise CaptureNotPossible(
            f"the authorised amount {payment.authorizedAmount} {totals.currency} is less than "
            f"the invoice total {totals.total} {totals.currency}"
        )
    return CaptureRequest(
        transaction_id=payment.transactionId,
        amount=totals.total,
        currency=totals.currency,
        idempotency_key=idempotency_key(tenant, order.id, generation),
        method=payment.method,
    )


@dataclass(frozen=True)
class RefundRequest:
    """Refund `amount` of a capture (for a credit note); the key makes a repeated request harmless."""

    capture_id: str
    amount: Decimal
    currency: str
    idempotency_key: str


def refund_idempotency_key(tenant: str, credit_note_id: str) -> str:
    """The same for every attempt to refund one credit note, whichever worker makes it (a hash, like the
    capture's key, so it is always a valid header value)."""
    digest = hashlib.sha256(f"{tenant}:{credit_note_id}".encode()).hexdigest()
    return f"invoice-refund-{digest}"
