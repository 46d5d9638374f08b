"""An invoice's settlement: what is paid, what is still due, and its payment status. Pure, no I/O.

What is due is the gross total less what credit notes took back less what was paid, never below zero.
The STORED status is open, partially_paid, paid or credited; `overdue` is derived at read time (open or
partially paid, and "now" is past the due date) and never stored, so it needs no job to keep it true.
A payment above what is due is refused with what is open; amounts are positive and have no more
decimals than the currency's minor unit.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from invoicing.document import InvoiceDocument
from invoicing.money import ZERO, minor_unit, round_money
from invoicing.orders import PaymentInput, PaymentStatus


class InvoicePaymentStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"  # derived, never stored
    CREDITED = "credited"


STORED_STATUSES = (
    InvoicePaymentStatus.OPEN,
    InvoicePaymentStatus.PARTIALLY_PAID,
    InvoicePaymentStatus.PAID,
    InvoicePaymentStatus.CREDITED,
)
UNSETTLED = (InvoicePaymentStatus.OPEN, InvoicePaymentStatus.PARTIALLY_PAID)


class PaymentSource(StrEnum):
    API = "api"  # recorded by POST .../payments
    ORDER_EVENT = "order_event"  # the order's payments said paid (at invoicing or in a later order event)


@dataclass(frozen=True)
class Payment:
    payment_id: str
    amount: Decimal
    currency: str
    date: date  # when the money came, as the payer says
    method: str
    reference: str | None
    recorded_at: datetime
    source: PaymentSource
    # The client's Idempotency-Key (or the order event's own key) and a digest of what was asked, so a
    # retry answers the first result and another body under the same key is refused.
    idempotency_key: str | None = None
    request_digest: str | None = None

    def digest(self) -> str:
        """What was asked, for comparing a retry with the first request (not the instant it was recorded)."""
        asked = f"{self.amount.normalize()}|{self.currency}|{self.date.isoformat()}|{self.method}|{self.reference}"
        return hashlib.sha256(asked.encode()).hexdigest()


@dataclass(frozen=True)
class Settlement:
    """The figures of one invoice's settlement, in its currency."""

    currency: str
    gross: Decimal
    credited: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def amount_due(self) -> Decimal:
        return max(self.gross - self.credited - self.paid, ZERO)

    @property
    def status(self) -> InvoicePaymentStatus:
        """The stored status: never overdue."""
        if self.credited >= self.gross:
            return InvoicePaymentStatus.CREDITED
        if self.amount_due == ZERO:
            return InvoicePaymentStatus.PAID
        if self.paid > ZERO:
            return InvoicePaymentStatus.PARTIALLY_PAID
        return InvoicePaymentStatus.OPEN

    def status_at(self, due_on: date | None, now: datetime) -> InvoicePaymentStatus:
        """The status as shown at `now`: overdue when unsettled and `now` (in UTC) is past the due day."""
        return shown_status(self.status, due_on, now)

    def with_payment(self, amount: Decimal) -> "Settlement":
        return Settlement(self.currency, self.gross, self.credited, self.paid + amount)

    def with_credited(self, credited: Decimal) -> "Settlement":
        return Settlement(self.currency, self.gross, credited, self.paid)


def shown_status(stored: InvoicePaymentStatus, due_on: date | None, now: datetime) -> InvoicePaymentStatus:
    """A stored status as shown at `now` (an aware instant): open or partially paid past the due day is overdue."""
    if stored in UNSETTLED and due_on is not None and now.date() > due_on:
        return InvoicePaymentStatus.OVERDUE
    return stored


def settlement_of(currency: str, gross: Decimal, credited: Decimal, payments: Sequence[Payment]) -> Settlement:
    return Settlement(currency, gross, credited, sum((p.amount for p in payments), ZERO))


class InvalidPayment(Exception):
    """The amount or currency cannot be a payment of this invoice (a 400); the message says why."""


class Overpayment(Exception):
    """The payment is more than is due (a 409); `amount_due` is what is open."""

    def __init__(self, amount: Decimal, amount_due: Decimal, currency: str) -> None:
        super().__init__(
            f"the payment of {amount} {currency} is more than the amount due of {amount_due} {currency}"
            if amount_due > ZERO
            else f"nothing is due on the invoice; the payment of {amount} {currency} is refused"
        )
        self.amount = amount
        self.amount_due = amount_due
        self.currency = currency


def check_amount(amount: Decimal, currency: str, invoice_currency: str) -> None:
    """Raise InvalidPayment unless `amount` in `currency` can pay an invoice in `invoice_currency`."""
    if currency != invoice_currency:
        raise InvalidPayment(f"the payment is in {currency}, the invoice in {invoice_currency}")
    if not amount.is_finite() or amount <= ZERO:
        raise InvalidPayment(f"the amount must be positive, not {amount}")
    if round_money(amount, currency) != amount:
        raise InvalidPayment(
            f"{amount} has more decimals than {currency} has (its smallest amount is {minor_unit(currency)})"
        )


def apply_payment(settlement: Settlement, amount: Decimal, currency: str) -> Settlement:
    """The settlement after paying `amount`; raises InvalidPayment or Overpayment."""
    check_amount(amount, currency, settlement.currency)
    if settlement.status is InvoicePaymentStatus.CREDITED or amount > settlement.amount_due:
        raise Overpayment(amount, settlement.amount_due, settlement.currency)
    return settlement.with_payment(amount)


class KeyReused(Exception):
    """An Idempotency-Key of an earlier payment of this invoice came with another body (a 422)."""


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment  # the payment recorded, or, for a retry, the one recorded first
    settlement: Settlement  # the invoice's settlement after it (for a retry: as it is now)
    replayed: bool = False
    became_paid: bool = False  # this payment settled the invoice in full


def record_payment(settlement: Settlement, payments: Sequence[Payment], payment: Payment) -> PaymentResult:
    """Record `payment` on an invoice settled so far as `settlement`, with `payments` recorded before. A
    payment under a key recorded before is that earlier payment again (KeyReused when it asked for
    something else); raises InvalidPayment or Overpayment otherwise."""
    if payment.idempotency_key is not None:
        earlier = next((p for p in payments if p.idempotency_key == payment.idempotency_key), None)
        if earlier is not None:
            if earlier.request_digest != payment.request_digest:
                raise KeyReused(
                    f"the Idempotency-Key {payment.idempotency_key!r} was used for another payment of this invoice"
                )
            return PaymentResult(earlier, settlement, replayed=True)
    after = apply_payment(settlement, payment.amount, payment.currency)
    return PaymentResult(payment, after, became_paid=after.status is InvoicePaymentStatus.PAID)


def with_digest(payment: Payment) -> Payment:
    return replace(payment, request_digest=payment.digest())


CAPTURED_AT_INVOICING = "invoicing"  # the payment ID of a payment the order had when it was invoiced


def opening_settlement(document: InvoiceDocument, recorded_at: datetime) -> tuple[Settlement, tuple[Payment, ...]]:
    """An invoice's settlement when it is made: paid in full when its order was paid (captured), else open."""
    totals = document.totals
    if not document.payment.paid:
        return Settlement(totals.currency, totals.total), ()
    paid = Payment(
        payment_id=CAPTURED_AT_INVOICING,
        amount=totals.total,
        currency=totals.currency,
        date=document.payment.paid_on or document.invoice_date,
        method=document.payment.method or "unknown",
        reference=None,
        recorded_at=recorded_at,
        source=PaymentSource.ORDER_EVENT,
    )
    return Settlement(totals.currency, totals.total, paid=totals.total), (paid,)


ORDER_EVENT_KEY = "order-event"  # the idempotency key of the one payment an order event records
_ORDER_EVENT_DIGEST = "order-event"  # the same for every copy: a redelivery is always the first again


def order_says_paid(payments: Sequence[PaymentInput], gross: Decimal) -> bool:
    """An order's payments say it is paid: one is CAPTURED, or what they say was paid adds up to the gross."""
    if any(payment.status is PaymentStatus.CAPTURED for payment in payments):
        return True
    paid = sum((payment.paidAmount or ZERO for payment in payments), ZERO)
    return paid > ZERO and paid >= gross


def order_event_payment(
    payments: Sequence[PaymentInput], settlement: Settlement, paid_on: date, recorded_at: datetime
) -> Payment | None:
    """The payment to record when an order event says its (issued) invoice is paid: what is still due,
    under one key per invoice, so however often the event comes it is recorded once. None when the
    event does not say paid or nothing is open any more."""
    if settlement.status not in UNSETTLED or not order_says_paid(payments, settlement.gross):
        return None
    method = next((p.method for p in payments if p.status is PaymentStatus.CAPTURED), None)
    return Payment(
        payment_id=ORDER_EVENT_KEY,
        amount=settlement.amount_due,
        currency=settlement.currency,
        date=paid_on,
        method=method or (payments[0].method if payments else "unknown"),
        reference=None,
        recorded_at=recorded_at,
        source=PaymentSource.ORDER_EVENT,
        idempotency_key=ORDER_EVENT_KEY,
        request_digest=_ORDER_EVENT_DIGEST,
    )


@dataclass(frozen=True)
class OpenAmount:
    """What one unsettled invoice leaves open, as stored."""

    status: InvoicePaymentStatus  # the stored one (open or partially paid)
    due_on: date | None
    currency: str
    amount_due: Decimal


def open_amounts(invoices: Iterable[OpenAmount], now: datetime) -> dict[tuple[InvoicePaymentStatus, str], Decimal]:
    """The amounts open by status as shown at `now` (overdue derived, as `shown_status`) and currency."""
    totals: dict[tuple[InvoicePaymentStatus, str], Decimal] = {}
    for invoice in invoices:
        key = (shown_status(invoice.status, invoice.due_on, now), invoice.currency)
        totals[key] = totals.get(key, ZERO) + invoice.amount_due
    return totals
