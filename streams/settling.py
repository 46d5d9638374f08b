"""An order event that says paid settles the order's issued invoice: one payment (source order_event)
of what is still due, under one key per invoice, so a redelivered event records nothing more; and
invoice.paid when that payment settled it (invoicing/settlement.py decides, infra/settlements.py writes)."""

import logging

from infra.cloud_events import invoice_paid
from infra.ports import InvoiceStore
from infra.records import as_stored
from invoicing.clock import Clock, utc_now
from invoicing.orders import OrderInput
from invoicing.settlement import Overpayment, PaymentResult, order_event_payment
from streams.announcements import Announce

log = logging.getLogger(__name__)


async def settle_from_order(
    invoices: InvoiceStore, announce: Announce, tenant: str, order: OrderInput, clock: Clock = utc_now
) -> PaymentResult | None:
    """Record the payment the order's payments say was made, if its current invoice is issued and open."""
    invoice = await invoices.find(tenant, order.id)
    if invoice is None or not invoice.issued:
        return None  # not invoiced (yet): the invoicing reads the order's payments itself
    now = as_stored(clock())
    payment = order_event_payment(order.payments, invoice.settled, now.date(), now)
    if payment is None:
        return None
    try:
        result = await invoices.record_payment(invoice, payment)
    except Overpayment:
        log.info("order %s says paid; invoice %s has nothing due any more", order.id, invoice.number)
        return None
    if result.became_paid:
        await announce(invoice_paid(invoice, result))
    return result
