"""Extension: serves invoice and credit-note PDFs for signed download links (the link form used with
local storage)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from infra.links import CREDIT_NOTE_PDF
from service.dependencies import CreditNotes, Invoices, Signer, Storage, Tenant
from service.disposition import attachment
from service.errors import ApiError, error_responses

router = APIRouter(tags=["Invoices (extension)"])


@router.get(
    "/invoice/{tenant}/invoices/{invoiceNumber:path}/pdf",  # numbers may hold "/"
    operation_id="GET-invoice-download-pdf",
    summary="Download an invoice PDF through a signed, expiring link",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **error_responses(403, 404)},
)
async def download_invoice(
    tenant: Tenant,
    invoiceNumber: Annotated[str, Path(max_length=128)],
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query()],  # any malformed one is 403 (LinkSigner.verify), not a validation error
    signer: Signer,
    invoices: Invoices,
    storage: Storage,
    kid: Annotated[str | None, Query(description="Id of the key that signed the link")] = None,
) -> Response:
    if not signer.verify(tenant, invoiceNumber, expires, signature, kid=kid):
        raise ApiError(403, "Download link is invalid or has expired; read the job again for a fresh link")
    invoice = await invoices.find_by_number(tenant, invoiceNumber)
    if invoice is None or invoice.storage_key is None:
        raise ApiError(404, f"Invoice {invoiceNumber} not found")
    # The key the PDF was stored under when it was issued, never one rebuilt from the number.
    data = await storage.get(invoice.storage_key)
    filename = invoice.storage_key.rsplit("/", 1)[-1]
    return Response(data, media_type="application/pdf", headers={"Content-Disposition": attachment(filename)})


@router.get(
    "/invoice/{tenant}/credit-notes/{creditNoteNumber:path}/pdf",  # numbers may hold "/"
    operation_id="GET-invoice-download-credit-note-pdf",
    summary="Download a credit-note PDF through a signed, expiring link",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **error_responses(403, 404)},
)
async def download_credit_note(
    tenant: Tenant,
    creditNoteNumber: Annotated[str, Path(max_length=128)],
    expires: Annotated[int, Query()],
    signature: Annotated[str, Query()],
    signer: Signer,
    credit_notes: CreditNotes,
    storage: Storage,
    kid: Annotated[str | None, Query(description="Id of the key that signed the link")] = None,
) -> Response:
    if not signer.verify(tenant, creditNoteNumber, expires, signature, what=CREDIT_NOTE_PDF, kid=kid):
        raise ApiError(403, "Download link is invalid or has expired; read the credit note again for a fresh link")
    note = await credit_notes.find_by_number(tenant, creditNoteNumber)
    if note is None or note.storage_key is None:
        raise ApiError(404, f"Credit note {creditNoteNumber} not found")
    data = await storage.get(note.storage_key)
    filename = note.storage_key.rsplit("/", 1)[-1]
    return Response(data, media_type="application/pdf", headers={"Content-Disposition": attachment(filename)})
