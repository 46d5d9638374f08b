"""Credit notes: request one, read one."""

import json
import uuid
from dataclasses import dataclass
from functools import partial

from infra.ports import (
    CreditNoteStore,
    EventPublisher,
    InvoiceStore,
)
from infra.records import (
    CreditNoteRequestRecord,
)
from infra.settings import Settings
from invoicing.credit import CreditAsk, CreditedQuantity, LeftToCredit, NothingToCredit, OverCredit, credit_totals
from schemas.api import (
    Amounts,
    CreditNoteAccepted,
    CreditNoteRequest,
    CreditNoteResponse,
    CreditNoteStatus,
    RefundInfo,
)
from schemas.events import CreditedLine, CreditNoteRequested
from schemas.topics import CREDIT_NOTE_REQUESTS
from service.services.common import Conflict, InvalidRequest, NotFound, publish_or_withdraw
from service.services.invoices import issued_invoice

# --- credit notes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditServices:
    settings: Settings
    invoices: InvoiceStore
    credit_notes: CreditNoteStore
    publisher: EventPublisher


def left_to_credit_detail(left: LeftToCredit) -> str:
    """What is left to credit, for a 409's detailInfo: a JSON object a client can act on."""
    return json.dumps(
        {
            "currency": left.currency,
            "lines": [{"entryId": entry, "quantity": str(quantity)} for entry, quantity in left.quantities.items()],
            "shippingNet": str(left.shipping_net),
            "gross": str(left.gross),
        }
    )


async def request_credit_note(
    app: CreditServices, tenant: str, invoice_number: str, body: CreditNoteRequest
) -> CreditNoteAccepted:
    """Check the request against what is left to credit now (an obvious over-credit is a 409 at once), then
    store the request and publish it; the credit-note agent makes the authoritative check as it numbers."""
    invoice = await issued_invoice(app.invoices, tenant, invoice_number)
    ask = CreditAsk(
        whole=body.wholeInvoice,
        lines=tuple(CreditedQuantity(line.entryId, line.quantity) for line in body.lines),
        shipping=body.shipping,
    )
    earlier = await app.credit_notes.of_invoice(tenant, invoice.number)
    try:
        credit_totals(invoice.invoice_document().totals, [note.credit_document().totals for note in earlier], ask)
    except OverCredit as over:
        message = f"Credit note for invoice {invoice_number} refused: {over}"
        raise Conflict(message, left_to_credit_detail(over.left)) from None
    except NothingToCredit as nothing:
        raise InvalidRequest(f"Credit note for invoice {invoice_number}: {nothing}") from None
    credit_note_id = uuid.uuid4().hex
    event = CreditNoteRequested(
        tenant=tenant,
        creditNoteId=credit_note_id,
        orderId=invoice.order_id,
        invoiceNumber=invoice.number,
        reason=body.reason,
        wholeInvoice=body.wholeInvoice,
        lines=[CreditedLine(entryId=line.entryId, quantity=line.quantity) for line in body.lines],
        shipping=body.shipping,
    )
    await app.credit_notes.create_request(
        tenant=tenant,
        request_id=credit_note_id,
        invoice_number=invoice.number,
        order_id=invoice.order_id,
        request_digest=event.digest(),
    )
    await publish_or_withdraw(
        app.publisher,
        app.settings.topic(app.settings.topic_credit_note_requests),
        CREDIT_NOTE_REQUESTS.key_text(event),
        event.to_bytes(),
        partial(app.credit_notes.withdraw_request, tenant, credit_note_id),
        f"credit note {credit_note_id}",
    )
    return CreditNoteAccepted(creditNoteId=credit_note_id, status=CreditNoteStatus.IN_PROGRESS)


async def credit_note(app: CreditServices, tenant: str, credit_note_id: str) -> CreditNoteResponse:
    request = await app.credit_notes.get_request(tenant, credit_note_id)
    if request is None:
        raise NotFound(f"Credit note {credit_note_id} not found for tenant {tenant}")
    answer = _credit_note_response(request)
    note = await app.credit_notes.find(tenant, credit_note_id)
    if note is None:
        return answer
    totals = note.credit_document().totals
    net = totals.subtotal + totals.shipping_net
    return answer.model_copy(
        update={
            "creditNoteNumber": note.number,
            "issuedAt": note.issued_at,
            "currency": totals.currency,
            "totals": Amounts(net=net, tax=totals.tax_total, gross=totals.total),
            "refund": RefundInfo(
                status=note.refund.status.value,
                amount=note.refund.amount,
                refundId=note.refund.refund_id,
                error=note.refund.error,
            ),
        }
    )


def _credit_note_response(request: CreditNoteRequestRecord) -> CreditNoteResponse:
    return CreditNoteResponse(
        creditNoteId=request.request_id,
        status=request.status,
        invoiceNumber=request.invoice_number,
        orderId=request.order_id,
        message=request.message,
        creditNoteNumber=request.credit_note_number,
        createdAt=request.created_at,
        updatedAt=request.updated_at,
    )
