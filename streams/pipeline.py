"""Invoicing one order: validate, recalculate, number, render, store. Returns the result event.

The steps read top to bottom; every decision that needs no I/O is a pure function of `invoicing/`.
Idempotent under redelivery: the invoice record (one per tenant and order) is the point of truth.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from pydantic import TypeAdapter, ValidationError

from infra.mongo import InvoiceRecord, InvoiceRepository, NumberTaken, OrderRepository
from infra.storage import InvoiceStorage, invoice_key
from infra.tenant_settings import TenantSettingsRepository
from invoicing.document import DEFAULT_SELLER, InvoiceDocument, SellerDetails, build_invoice_document
from invoicing.numbering import DEFAULT_SEQUENCE, SequenceExhausted, SequenceSchema
from invoicing.recalculation import PriceMismatch, check_order_figures, recalculate
from schemas.events import OrderFailed, OrderInvoiced, OrderInvoiceRequested, utc_now
from schemas.orders import Order, OrderStatus
from schemas.settings import SellerSettings, SequenceSettings

log = logging.getLogger(__name__)

DOCUMENT = TypeAdapter(InvoiceDocument)
NOT_INVOICEABLE = {OrderStatus.DECLINED}


@dataclass(frozen=True)
class PipelineDeps:
    orders: OrderRepository
    invoices: InvoiceRepository
    tenant_settings: TenantSettingsRepository
    storage: InvoiceStorage
    render: Callable[[InvoiceDocument], Awaitable[bytes]]
    now: Callable[[], datetime] = utc_now


class OrderRejected(Exception):
    """The order cannot be invoiced; the message says why and becomes the FAILURE message."""


async def invoice_order(request: OrderInvoiceRequested, deps: PipelineDeps) -> OrderInvoiced | OrderFailed:
    try:
        record = await existing_or_new_invoice(request, deps)
        if record.job_id != request.jobId and record.issued:
            return failed(request, f"Order {request.orderId} is already invoiced as {record.number}")
        if not record.issued:
            await issue(record, deps)
    except OrderRejected as rejection:
        return failed(request, str(rejection))
    return OrderInvoiced(
        tenant=request.tenant,
        jobId=request.jobId,
        orderId=request.orderId,
        invoiceNumber=record.number,
        message=f"Invoice {record.number} created",
    )


async def existing_or_new_invoice(request: OrderInvoiceRequested, deps: PipelineDeps) -> InvoiceRecord:
    """The order's invoice record: the one it already has (a redelivery, a retry, another job), or a new
    one numbered from the tenant's sequence once the order passed validation and recalculation."""
    tenant, order_id = request.tenant, request.orderId
    while True:
        existing = await deps.invoices.find(tenant, order_id)
        if existing is not None:
            return existing
        order = await load_invoiceable_order(deps.orders, tenant, order_id)
        totals = recalculate(order)
        try:
            check_order_figures(order, totals)
        except PriceMismatch as mismatch:
            raise OrderRejected(f"Order {order_id} not invoiced: {mismatch}") from None
        sequence, seller, logo_sha256 = await tenant_invoice_settings(deps.tenant_settings, tenant)
        try:
            seq = sequence.next_value(await deps.invoices.last_seq(tenant))
        except SequenceExhausted as exhausted:
            raise OrderRejected(str(exhausted)) from None
        number = sequence.format(seq)
        document = build_invoice_document(
            order=order, tenant=tenant, totals=totals, invoice_number=number, issued_at=deps.now(), seller=seller
        )
        try:
            record = await deps.invoices.allocate(
                tenant=tenant,
                order_id=order_id,
                job_id=request.jobId,
                seq=seq,
                number=number,
                document=DOCUMENT.dump_python(document, mode="json"),
                logo_sha256=logo_sha256,
            )
        except NumberTaken:
            continue  # another order got this number first; take the next one
        if record is not None:
            return record
        # else another job allocated this order's invoice at the same moment: read and use it


async def load_invoiceable_order(orders: OrderRepository, tenant: str, order_id: str) -> Order:
    stored = await orders.get(tenant, order_id)
    if stored is None:
        raise OrderRejected(f"Order {order_id} not found")
    try:
        order = Order.model_validate(stored)
    except ValidationError as error:
        raise OrderRejected(f"Order {order_id} is stored in a form that cannot be read: {error}") from None
    if order.status in NOT_INVOICEABLE:
        raise OrderRejected(f"Order {order_id} has status {order.status.value} and cannot be invoiced")
    return order


async def tenant_invoice_settings(
    repository: TenantSettingsRepository, tenant: str
) -> tuple[SequenceSchema, SellerDetails, str | None]:
    """The tenant's number sequence, seller details and logo (its SHA-256) as they are now; defaults where
    the tenant has none. Read for each new invoice, so a change applies to the invoices made after it."""
    sequence = await repository.read(tenant, SequenceSettings)
    seller = await repository.read(tenant, SellerSettings)
    logo = await repository.current_logo(tenant)
    return (
        sequence.to_schema() if sequence else DEFAULT_SEQUENCE,
        seller.to_seller() if seller else DEFAULT_SELLER,
        logo.sha256 if logo else None,
    )


async def issue(record: InvoiceRecord, deps: PipelineDeps) -> None:
    """Render the stored document and store the PDF. Rendering the same document again gives the
    same invoice, so a crash anywhere here is mended by the redelivery."""
    document = DOCUMENT.validate_python(record.document)
    if record.logo_sha256:
        # The logo lives once per tenant and content, not in every invoice record.
        logo = await deps.tenant_settings.logo_content(record.tenant, record.logo_sha256)
        document = replace(document, seller=replace(document.seller, logo=logo))
    pdf = await deps.render(document)
    key = invoice_key(record.tenant, record.number)
    await deps.storage.put(key, pdf)
    await deps.invoices.mark_issued(record.tenant, record.order_id, key)
    log.info("invoice issued", extra={"tenant": record.tenant, "order": record.order_id, "number": record.number})


def failed(request: OrderInvoiceRequested, reason: str) -> OrderFailed:
    return OrderFailed(tenant=request.tenant, jobId=request.jobId, orderId=request.orderId, reason=reason)
