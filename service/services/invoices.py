"""Invoices: email one again, its e-invoice XML, invoices and credit notes as lists and one invoice in detail."""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import partial

from infra.ports import (
    EventPublisher,
    InvoiceCatalog,
    InvoiceStorage,
    InvoiceStore,
)
from infra.records import (
    InvoiceFilter,
    InvoiceRecord,
    IssuedInvoice,
    ListedCreditNote,
    PageKey,
)
from infra.settings import Settings
from infra.storage import invoice_key
from invoicing.clock import Clock, utc_now
from invoicing.einvoice import EInvoiceFormat, EInvoiceRefused, invoice_xml
from invoicing.recipients import NoRecipient, invoice_recipient
from schemas.api import (
    Amounts,
    AmountsCreditedView,
    CreditNoteReference,
    DocumentLinks,
    DocumentType,
    InvoiceDetail,
    InvoiceSummary,
    PaymentView,
)
from schemas.events import EmailReason, InvoiceEmailRequested
from schemas.topics import INVOICE_EMAILS
from service.services.common import Conflict, InvalidRequest, NotFound, Page, publish_or_withdraw
from service.services.invoice_views import buyer_view, line_views, seller_view, vat_breakdown_view


async def issued_invoice(invoices: InvoiceStore, tenant: str, invoice_number: str) -> InvoiceRecord:
    """The tenant's invoice of this number, issued: 404 when there is none, 409 while it is being made."""
    invoice = await invoices.find_by_number(tenant, invoice_number)
    if invoice is None:
        raise NotFound(f"Invoice {invoice_number} not found for tenant {tenant}")
    if not invoice.issued:
        raise Conflict(f"Invoice {invoice_number} is still being made; try again in a moment")
    return invoice


@dataclass(frozen=True)
class EmailRequested:
    invoice_number: str
    recipient: str


async def request_invoice_email(
    settings: Settings, invoices: InvoiceStore, publisher: EventPublisher, tenant: str, invoice_number: str
) -> EmailRequested:
    """Record the resend and queue it (the email agent sends a recorded one only, retrying while the server
    is away); withdrawn again if Kafka does not confirm it and the agent has not started it."""
    invoice = await issued_invoice(invoices, tenant, invoice_number)
    try:
        recipient = invoice_recipient(invoice.customer_email)
    except NoRecipient as nobody:
        raise Conflict(f"Invoice {invoice_number} cannot be emailed: {nobody}") from None
    request_id = uuid.uuid4().hex
    request = InvoiceEmailRequested(
        tenant=tenant,
        orderId=invoice.order_id,
        invoiceNumber=invoice.number,
        reason=EmailReason.RESEND,
        requestId=request_id,
    )
    await invoices.record_email_request(
        tenant=tenant,
        request_id=request_id,
        invoice_number=invoice.number,
        order_id=invoice.order_id,
        request_digest=request.digest(),
    )
    # Keyed like the order, so the email agent handles one order's emails in the order they were asked for.
    await publish_or_withdraw(
        publisher,
        settings.topic(settings.topic_invoice_emails),
        INVOICE_EMAILS.key_text(request),
        request.to_bytes(),
        partial(invoices.withdraw_email_request, tenant, request_id),
        f"the email of invoice {invoice.number}",
    )
    return EmailRequested(invoice_number=invoice.number, recipient=recipient)


# --- invoices, credit notes and jobs as lists ------------------------------------------------------


@dataclass(frozen=True)
class InvoiceReading:
    catalog: InvoiceCatalog
    storage: InvoiceStorage
    clock: Clock = utc_now  # what "overdue" is measured at


async def list_documents(
    app: InvoiceReading,
    tenant: str,
    document_type: DocumentType,
    where: InvoiceFilter,
    after: PageKey | None,
    limit: int,
) -> Page[InvoiceSummary]:
    """One page of the tenant's invoices or credit notes, newest first. One more than `limit` is read,
    so the caller knows whether a next page exists without a second query."""
    if document_type is DocumentType.CREDIT_NOTE:
        if any(
            f is not None
            for f in (where.job_id, where.email_status, where.payment_status, where.due_from, where.due_to)
        ):
            raise InvalidRequest(
                "jobId, emailStatus, paymentStatus, dueFrom and dueTo filter invoices only; "
                "leave them out with type=credit-note"
            )
        notes = await app.catalog.credit_notes_page(tenant, where, after, limit + 1)
        return Page([await credit_note_summary(app.storage, note) for note in notes[:limit]], [n.key for n in notes])
    now = app.clock()
    invoices = await app.catalog.issued_invoices(tenant, replace(where, today=now.date()), after, limit + 1)
    summaries = [await invoice_summary(app.storage, inv, now) for inv in invoices[:limit]]
    return Page(summaries, [i.key for i in invoices])


async def invoice_detail(app: InvoiceReading, tenant: str, number: str) -> InvoiceDetail:
    invoice = await app.catalog.issued_invoice(tenant, number)
    if invoice is None:
        raise NotFound(f"Invoice {number} not found for tenant {tenant}")
    summary = await invoice_summary(app.storage, invoice, app.clock())
    document = invoice.record.invoice_document()
    lines = line_views(document)
    notes = await app.catalog.credit_notes_page(tenant, InvoiceFilter(invoice_number=number), None, 1000)
    return InvoiceDetail(
        **summary.model_dump(),
        lines=lines,
        shippingNet=document.totals.shipping_net,
        shippingGross=document.totals.shipping_gross,
        creditNotes=[await credit_note_summary(app.storage, note) for note in notes],
    )


async def invoice_summary(storage: InvoiceStorage, invoice: IssuedInvoice, now: datetime) -> InvoiceSummary:
    record, credited = invoice.record, invoice.credited
    settlement = record.settled
    document = record.invoice_document()
    totals = document.totals
    gross = totals.total
    paid = document.payment.paid
    return InvoiceSummary(
        number=record.number,
        type=DocumentType.INVOICE,
        orderId=record.order_id,
        jobId=record.job_id,
        issuedAt=invoice.issued_at,
        currency=totals.currency,
        totals=Amounts(net=gross - totals.tax_total, tax=totals.tax_total, gross=gross),
        credited=AmountsCreditedView(
            net=credited.net,
            tax=credited.tax,
            gross=credited.gross,
            notes=[CreditNoteReference(number=n.number, issuedAt=n.issued_at, gross=n.gross) for n in credited.notes],
        ),
        payment=PaymentView(
            paid=paid,
            method=document.payment.method,
            paidOn=document.payment.paid_on,
            dueOn=document.payment.due_on,
            captured=gross if paid else Decimal(0),
            # What is credited on a paid invoice is paid back (refunds are made with the credit note).
            refunded=credited.gross if paid else Decimal(0),
        ),
        emailStatus=record.email_status,
        paymentStatus=settlement.status_at(record.due_on, now),
        amountPaid=settlement.paid,
        amountDue=settlement.amount_due,
        language=record.language,
        siteCode=record.site_code,
        dueDate=None if paid else document.payment.due_on,
        pricesIncludeTax=totals.prices_include_tax,
        seller=seller_view(document.seller),
        buyer=buyer_view(document.buyer),
        vatBreakdown=vat_breakdown_view(document),
        # Signed now, at read time: a stored link would expire. No XML e-invoice is stored yet.
        links=DocumentLinks(
            pdf=await storage.download_link(invoice_key(record.tenant, record.number), record.tenant, record.number)
        ),
    )


async def credit_note_summary(storage: InvoiceStorage, note: ListedCreditNote) -> InvoiceSummary:
    pdf = None if note.storage_key is None else await storage.download_link(note.storage_key, note.tenant, note.number)
    return InvoiceSummary(
        number=note.number,
        type=DocumentType.CREDIT_NOTE,
        orderId=note.order_id,
        invoiceNumber=note.invoice_number,
        issuedAt=note.issued_at,
        currency=note.currency,
        totals=Amounts(net=note.net, tax=note.tax, gross=note.gross),
        links=DocumentLinks(pdf=pdf),
    )


async def issued_invoice_xml(invoices: InvoiceStore, tenant: str, invoice_number: str, fmt: EInvoiceFormat) -> bytes:
    """The issued invoice's e-invoice XML in `fmt`, made from its stored document and the e-invoice
    settings frozen in it (the FACTURX one is the PDF's embedded factur-x.xml)."""
    invoice = await issued_invoice(invoices, tenant, invoice_number)
    try:
        return invoice_xml(invoice.invoice_document(), fmt)
    except EInvoiceRefused as refused:
        raise Conflict(f"Invoice {invoice_number} as {refused}") from None
