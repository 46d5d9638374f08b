"""Extension: credit notes, the one way to correct an issued invoice (scopes `invoice.invoice_manage`
to ask for one, `invoice.invoice_read` to read it). Asking is accepted (202) and queued; the stream
worker makes the credit note, and the client polls it by its ID."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path

from schemas.api import CreditNoteAccepted, CreditNoteRequest, CreditNoteResponse
from service import services
from service.auth import ManageScope, ReadScope
from service.dependencies import Credits, Tenant
from service.errors import error_responses

router = APIRouter(tags=["Credit notes (extension)"])

REQUEST_EXAMPLES: dict[str, Any] = {
    "whole": {
        "summary": "Credit the whole invoice (all that is left)",
        "value": {"reason": "Order returned", "wholeInvoice": True},
    },
    "lines": {
        "summary": "Credit one unit of an entry and the shipping",
        "value": {"reason": "One item damaged", "lines": [{"entryId": "1", "quantity": "1"}], "shipping": True},
    },
}


@router.post(
    "/invoice/{tenant}/invoices/{invoiceNumber:path}/credit-notes",  # numbers may hold "/"
    dependencies=[ManageScope],
    operation_id="POST-invoice-create-credit-note",
    summary="Correcting an invoice by a credit note",
    description=(
        "Asks for a credit note (German: Rechnungskorrektur) for the whole invoice, or for some of its lines "
        "(by the order entry's ID and a quantity) and/or its shipping. Accepted means queued: the stream "
        "worker checks that the credit never exceeds what is left to credit (per line and in total), numbers "
        "it from the tenant's credit-note sequence (`settings/credit-note-sequence`, default `CN-__num__`), "
        "renders the PDF naming the invoice it corrects, refunds a captured payment and emails the customer. "
        "Poll `GET /invoice/{tenant}/credit-notes/{creditNoteId}`. An obvious over-credit is refused at once "
        "with 409, `detailInfo` holding what is left as JSON; one that loses a race is FAILED with the same."
    ),
    status_code=202,
    responses=error_responses(400, 401, 403, 404, 409, 500, 503),
)
async def create_credit_note(
    tenant: Tenant,
    invoiceNumber: Annotated[str, Path(max_length=128)],
    body: Annotated[CreditNoteRequest, Body(openapi_examples=REQUEST_EXAMPLES)],
    credits: Credits,
) -> CreditNoteAccepted:
    return await services.request_credit_note(credits, tenant, invoiceNumber, body)


@router.get(
    "/invoice/{tenant}/credit-notes/{creditNoteId}",
    dependencies=[ReadScope],
    operation_id="GET-invoice-retrieve-credit-note",
    summary="Returning a credit note and where its request stands",
    description=(
        "IN_PROGRESS until the worker made it; DONE with its number, totals and refund state (NOT_NEEDED, "
        "PENDING and retried, REFUNDED, FAILED); FAILED with the reason (for an over-credit, what is left)."
    ),
    response_model_exclude_none=True,
    responses=error_responses(401, 403, 404, 500, 503),
)
async def get_credit_note(
    tenant: Tenant, creditNoteId: Annotated[str, Path(max_length=64)], credits: Credits
) -> CreditNoteResponse:
    return await services.credit_note(credits, tenant, creditNoteId)
