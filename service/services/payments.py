"""Payments on an invoice: record one (partial or full; a retry under the same Idempotency-Key answers
the first), and list them. The rules are the domain's (invoicing/settlement.py); the store records a
payment in one conditional update (infra/settlements.py)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from infra.cloud_events import cloud_event_headers, invoice_paid
from infra.kafka import KafkaUnavailable
from infra.ports import EventPublisher, InvoiceStore
from infra.records import InvoiceRecord, as_stored
from infra.settings import Settings
from invoicing.clock import Clock
from invoicing.settlement import (
    InvalidPayment,
    InvoicePaymentStatus,
    KeyReused,
    Overpayment,
    Payment,
    PaymentResult,
    PaymentSource,
    with_digest,
)
from schemas.payments import InvoicePaymentRequest, InvoicePaymentView, InvoiceSettlementView
from schemas.topics import PUBLIC_EVENTS
from service.services.common import Conflict, InvalidRequest, Unconfirmed
from service.services.invoices import issued_invoice


@dataclass(frozen=True)
class PaymentRecorded:
    result: PaymentResult
    invoice: InvoiceRecord


@dataclass(frozen=True)
class PaymentDeps:
    settings: Settings
    invoices: InvoiceStore
    publisher: EventPublisher
    clock: Clock


async def record_invoice_payment(
    deps: PaymentDeps,
    tenant: str,
    invoice_number: str,
    ask: InvoicePaymentRequest,
    idempotency_key: str | None,
) -> PaymentRecorded:
    """404 unknown invoice; 400 a bad amount or currency; 409 more than is due (with what is open) or a
    key used before for another payment of this invoice. invoice.paid when the payment settles it."""
    invoice = await issued_invoice(deps.invoices, tenant, invoice_number)
    payment = with_digest(
        Payment(
            payment_id=uuid.uuid4().hex,
            amount=ask.amount,
            currency=ask.currency,
            date=ask.date,
            method=ask.method,
            reference=ask.reference,
            recorded_at=as_stored(deps.clock()),
            source=PaymentSource.API,
            idempotency_key=idempotency_key,
        )
    )
    try:
        result = await deps.invoices.record_payment(invoice, payment)
    except InvalidPayment as invalid:
        raise InvalidRequest(f"Invoice {invoice_number}: {invalid}") from None
    except Overpayment as over:
        raise Conflict(f"Invoice {invoice_number}: {over}", f"amountDue: {over.amount_due} {over.currency}") from None
    except KeyReused as reused:
        raise Conflict(
            f"Invoice {invoice_number}: {reused}", "send another Idempotency-Key for a new payment"
        ) from None
    if paid_by(invoice, result):
        await announce_paid(deps, invoice, result)
    return PaymentRecorded(result, invoice)


def paid_by(invoice: InvoiceRecord, result: PaymentResult) -> bool:
    """This payment settled the invoice: now, or (a retry) when it was recorded, as the invoice's last
    payment; the retry announces again under the same ce_id, in case Kafka did not take it the first time."""
    if result.became_paid:
        return True
    last = invoice.payments[-1].payment_id if invoice.payments else None
    settled = result.settlement.status is InvoicePaymentStatus.PAID
    return result.replayed and settled and last == result.payment.payment_id


async def announce_paid(deps: PaymentDeps, invoice: InvoiceRecord, result: PaymentResult) -> None:
    event = invoice_paid(invoice, result)
    topic = deps.settings.topic(deps.settings.topic_invoice_events)
    try:
        await deps.publisher.publish(topic, PUBLIC_EVENTS.key_text(event), event.to_bytes(), cloud_event_headers(event))
    except KafkaUnavailable:
        raise Unconfirmed(
            f"the payment is recorded and invoice {invoice.number} is paid, but Kafka did not take invoice.paid; "
            "send the request again with the same Idempotency-Key to announce it"
        ) from None


async def invoice_payments(invoices: InvoiceStore, tenant: str, invoice_number: str) -> InvoiceRecord:
    return await issued_invoice(invoices, tenant, invoice_number)


def payment_view(payment: Payment) -> InvoicePaymentView:
    return InvoicePaymentView(
        paymentId=payment.payment_id,
        amount=payment.amount,
        currency=payment.currency,
        date=payment.date,
        method=payment.method,
        reference=payment.reference,
        recordedAt=payment.recorded_at,
        source=payment.source,
    )


def settlement_view(
    invoice: InvoiceRecord, now: datetime, result: PaymentResult | None = None
) -> InvoiceSettlementView:
    """The invoice's settlement: after `result` when given (the record was read before the payment)."""
    settlement = invoice.settled if result is None else result.settlement
    return InvoiceSettlementView(
        invoiceNumber=invoice.number,
        currency=settlement.currency,
        paymentStatus=settlement.status_at(invoice.due_on, now),
        amountPaid=settlement.paid,
        amountDue=settlement.amount_due,
        dueOn=invoice.due_on,
    )
