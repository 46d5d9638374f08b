"""Payments on an invoice: record one (partial or full; a retry under the same Idempotency-Key answers
the first), and list them. The rules are the domain's (invoicing/settlement.py); the store records a
payment in one conditional update (infra/settlements.py)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from infra.ports import InvoiceStore
from infra.records import InvoiceRecord, as_stored
from invoicing.clock import Clock
from invoicing.settlement import (
    InvalidPayment,
    KeyReused,
    Overpayment,
    Payment,
    PaymentResult,
    PaymentSource,
    with_digest,
)
from schemas.payments import InvoicePaymentRequest, InvoicePaymentView, InvoiceSettlementView
from service.services.common import Conflict, InvalidRequest
from service.services.invoices import issued_invoice


@dataclass(frozen=True)
class PaymentRecorded:
    result: PaymentResult
    invoice: InvoiceRecord


async def record_invoice_payment(
    invoices: InvoiceStore,
    clock: Clock,
    tenant: str,
    invoice_number: str,
    ask: InvoicePaymentRequest,
    idempotency_key: str | None,
) -> PaymentRecorded:
    """404 unknown invoice; 400 a bad amount or currency; 409 more than is due (with what is open) or a
    key used before for another payment of this invoice."""
    invoice = await issued_invoice(invoices, tenant, invoice_number)
    payment = with_digest(
        Payment(
            payment_id=uuid.uuid4().hex,
            amount=ask.amount,
            currency=ask.currency,
            date=ask.date,
            method=ask.method,
            reference=ask.reference,
            recorded_at=as_stored(clock()),
            source=PaymentSource.API,
            idempotency_key=idempotency_key,
        )
    )
    try:
        result = await invoices.record_payment(invoice, payment)
    except InvalidPayment as invalid:
        raise InvalidRequest(f"Invoice {invoice_number}: {invalid}") from None
    except Overpayment as over:
        raise Conflict(f"Invoice {invoice_number}: {over}", f"amountDue: {over.amount_due} {over.currency}") from None
    except KeyReused as reused:
        raise Conflict(
            f"Invoice {invoice_number}: {reused}", "send another Idempotency-Key for a new payment"
        ) from None
    return PaymentRecorded(result, invoice)


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
