"""Making one credit note: check what is left to credit, number, render, store, refund, email.

The steps read top to bottom; what needs no I/O is in `invoicing/credit.py`. Idempotent under
redelivery: the credit note is keyed by its request, so a redelivered request finds it and goes on
from where the first attempt stopped. Two requests racing for the last unit of a line: the one that
numbers its credit note first wins (`CreditNoteStore.allocate`), the other reads again and is refused
with what is left.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from infra.mapping import sequence_schema
from infra.payments import CaptureDeclined, GatewayError, GatewayUnavailable
from infra.ports import (
    CaptureStore,
    CheckEInvoice,
    CreditNoteStore,
    InvoiceStorage,
    InvoiceStore,
    PaymentRefunder,
    Render,
    TenantSettingsStore,
)
from infra.records import CreditNoteRecord, CreditRaced, InvoiceRecord, NumberTaken, RefundState, RefundStatus
from infra.storage import AlreadyStored, credit_note_key
from invoicing.credit import CreditAsk, CreditedQuantity, NothingToCredit, OverCredit, credit_totals
from invoicing.document import DocumentKind, InvoiceDocument, PrecedingInvoice
from invoicing.einvoice import EInvoiceRefused
from invoicing.numbering import SequenceExhausted, SequenceSchema
from invoicing.payments import RefundRequest, refund_idempotency_key
from schemas.api import CreditNoteStatus
from schemas.events import CreditNoteRequested, RefundRequested, utc_now
from schemas.settings import CreditNoteSequenceSettings
from streams.announcements import credit_note_issued
from streams.email_documents import CreditNoteEmail
from streams.emailing import EmailDeps, QueueEmail, email_once

log = logging.getLogger(__name__)

DEFAULT_CREDIT_NOTE_SEQUENCE = SequenceSchema(pre_text="CN-__num__")


async def no_einvoice_check(document: InvoiceDocument) -> None:
    """For CreditDeps without a renderer's check (unit tests on fakes that render no Factur-X)."""


@dataclass(frozen=True)
class CreditDeps:
    invoices: InvoiceStore
    credit_notes: CreditNoteStore
    tenant_settings: TenantSettingsStore
    storage: InvoiceStorage
    render: Render
    captures: CaptureStore
    refunds: PaymentRefunder
    email: EmailDeps
    # Hands a refund the gateway did not confirm to the refund agent (topic invoice-refunds), which retries it.
    queue_refund: Callable[[RefundRequested], Awaitable[None]]
    # Hands an email whose first send failed to the email agent (topic invoice-emails), which retries it.
    queue_email: QueueEmail
    now: Callable[[], datetime] = utc_now
    # The same check as for invoices (the PDF is a Factur-X e-invoice, type code 381), made before the
    # credit note takes a number, so a number is never used for a PDF that cannot be made.
    check_einvoice: CheckEInvoice = no_einvoice_check


class CreditRefused(Exception):
    """The credit note cannot be made; the message says why (and, for an over-credit, what is left)."""


async def make_credit_note(request: CreditNoteRequested, deps: CreditDeps) -> None:
    """Make the requested credit note and finish the request DONE, or FAILED with the reason."""
    tenant = request.tenant
    try:
        note = await deps.credit_notes.find(tenant, request.creditNoteId) or await number_credit_note(request, deps)
    except CreditRefused as refused:
        await deps.credit_notes.finish_request(tenant, request.creditNoteId, CreditNoteStatus.FAILED, str(refused))
        return
    pdf = await store_credit_note(note, deps) if not note.stored else None
    await deps.credit_notes.project_onto_invoice(tenant, note.invoice_number)
    await deps.email.announce(credit_note_issued(note))  # again on a redelivery: the same ce_id
    refund = await refund_once(note, deps)
    email = await email_once(CreditNoteEmail(note, deps.credit_notes), deps.email, deps.queue_email, pdf)
    await deps.credit_notes.finish_request(
        tenant,
        request.creditNoteId,
        CreditNoteStatus.DONE,
        f"Credit note {note.number} issued for invoice {note.invoice_number}{refund}{email}",
        note.number,
    )


def credit_ask(request: CreditNoteRequested) -> CreditAsk:
    return CreditAsk(
        whole=request.wholeInvoice,
        lines=tuple(CreditedQuantity(line.entryId, line.quantity) for line in request.lines),
        shipping=request.shipping,
    )


async def credited_invoice(deps: CreditDeps, tenant: str, order_id: str, invoice_number: str) -> InvoiceRecord:
    """The invoice the request names, by its number: an order invoiced again has more than one, and a credit
    note corrects the one it names, whether it is the order's current invoice or an earlier one."""
    invoice = await deps.invoices.find_by_number(tenant, invoice_number)
    if invoice is None or invoice.order_id != order_id:
        raise CreditRefused(f"Invoice {invoice_number} not found for tenant {tenant}")
    if not invoice.issued:
        raise CreditRefused(f"Invoice {invoice_number} is still being made")
    return invoice


async def number_credit_note(request: CreditNoteRequested, deps: CreditDeps) -> CreditNoteRecord:
    """Check the credit against what is left and bind it to its number, in one insert; on a race with
    another credit note of the invoice (or for the number), read again and check again."""
    tenant, order_id = request.tenant, request.orderId
    invoice = await credited_invoice(deps, tenant, order_id, request.invoiceNumber)
    invoice_document = invoice.invoice_document()
    # The credit-note sequence of the invoice's site when it has one of its own, else the tenant's.
    settings = await deps.tenant_settings.read_all(tenant, invoice.site_code)
    stored_sequence, scope = (
        settings.get(CreditNoteSequenceSettings),
        settings.sequence_scope(CreditNoteSequenceSettings),
    )
    sequence = sequence_schema(stored_sequence) if stored_sequence else DEFAULT_CREDIT_NOTE_SEQUENCE
    capture = await deps.captures.find(tenant, order_id, invoice.generation)  # the capture for this invoice
    while True:
        earlier = await deps.credit_notes.of_invoice(tenant, invoice.number)
        try:
            totals = credit_totals(
                invoice_document.totals, [note.credit_document().totals for note in earlier], credit_ask(request)
            )
            seq = sequence.next_value(await deps.credit_notes.last_seq(tenant, scope))
        except (OverCredit, NothingToCredit, SequenceExhausted) as refusal:
            raise CreditRefused(f"Credit note for invoice {invoice.number} not made: {refusal}") from None
        number = sequence.format(seq)
        document = replace(
            invoice_document,
            kind=DocumentKind.CREDIT_NOTE,
            invoice_number=number,
            invoice_date=deps.now().date(),
            totals=totals,
            preceding_invoice=PrecedingInvoice(number=invoice.number, issued_on=invoice_document.invoice_date),
        )
        try:
            await deps.check_einvoice(document)
        except EInvoiceRefused as refused:
            raise CreditRefused(f"Credit note for invoice {invoice.number} not made: {refused}") from None
        # The money goes back the way it came: a captured payment is refunded, anything else is owed less.
        refund = RefundState.for_credit(totals.total, captured=capture is not None)
        try:
            return await deps.credit_notes.allocate(
                tenant=tenant,
                note_id=request.creditNoteId,
                order_id=order_id,
                invoice_number=invoice.number,
                ordinal=len(earlier) + 1,
                seq=seq,
                number=number,
                reason=request.reason,
                document=document,
                logo_sha256=invoice.logo_sha256,
                refund=refund,
                site_code=invoice.site_code,
                scope=scope,
            )
        except (CreditRaced, NumberTaken):
            continue


async def store_credit_note(note: CreditNoteRecord, deps: CreditDeps) -> bytes:
    """Render the stored document and store the PDF (the same document renders the same credit note)."""
    document = note.credit_document()
    if note.logo_sha256:
        logo = await deps.tenant_settings.logo_content(note.tenant, note.logo_sha256)
        document = replace(document, seller=replace(document.seller, logo=logo))
    pdf = await deps.render(document)
    key = credit_note_key(note.tenant, note.number)
    try:
        await deps.storage.put(key, pdf)
    except AlreadyStored:  # stored by an earlier attempt that stopped before recording it: write-once
        pdf = await deps.storage.get(key)
    await deps.credit_notes.mark_stored(note.tenant, note.note_id, key)
    log.info("credit note issued", extra={"tenant": note.tenant, "order": note.order_id, "number": note.number})
    return pdf


async def refund_once(note: CreditNoteRecord, deps: CreditDeps) -> str:
    """Refund a captured payment by the credit note's gross. A refund the gateway does not confirm leaves
    the credit note issued and its refund PENDING, handed to the refund agent; a refused one is FAILED."""
    if note.refund.status is RefundStatus.NOT_NEEDED:
        return ""
    if note.refund.status is RefundStatus.PENDING:
        refund = await try_refund(note, deps)
    else:
        refund = note.refund
    if refund.status is RefundStatus.PENDING:
        await deps.queue_refund(RefundRequested(tenant=note.tenant, creditNoteId=note.note_id))
    return {
        RefundStatus.REFUNDED: f"; {refund.amount} {note.credit_document().totals.currency} refunded",
        RefundStatus.PENDING: f"; the refund is pending and will be retried ({refund.error})",
        RefundStatus.FAILED: f"; the refund was refused ({refund.error})",
        RefundStatus.NOT_NEEDED: "",
    }[refund.status]


async def try_refund(note: CreditNoteRecord, deps: CreditDeps) -> RefundState:
    """One refund attempt (the gateway client retries briefly itself); records and returns the new state."""
    # The capture for the invoice the note corrects (an order invoiced again has one per invoice).
    invoice = await deps.invoices.find_by_number(note.tenant, note.invoice_number)
    capture = None if invoice is None else await deps.captures.find(note.tenant, note.order_id, invoice.generation)
    if capture is None:
        refund = note.refund.refused("no recorded capture to refund")
    else:
        request = RefundRequest(
            capture_id=capture.capture_id,
            amount=note.refund.amount,
            currency=capture.currency,
            idempotency_key=refund_idempotency_key(note.tenant, note.note_id),
        )
        try:
            answer = await deps.refunds.refund(request)
        except GatewayUnavailable as unavailable:
            refund = note.refund.unconfirmed(str(unavailable))
        except (CaptureDeclined, GatewayError) as refused:
            refund = note.refund.refused(str(refused))
        else:
            refund = note.refund.refunded(answer.refund_id)
    await deps.credit_notes.mark_refund(note.tenant, note.note_id, refund)
    return refund
