"""Extension: email an issued invoice to the customer again, for a customer who lost it (scope
`invoice.invoice_manage`)."""

from typing import Annotated

from fastapi import APIRouter, Path

from schemas.api import InvoiceEmailAccepted
from service import services
from service.auth import ManageScope
from service.dependencies import Resources, Tenant
from service.errors import error_responses

router = APIRouter(tags=["Invoices (extension)"])


@router.post(
    "/invoice/{tenant}/invoices/{invoiceNumber:path}/email",  # numbers may hold "/"
    dependencies=[ManageScope],
    operation_id="POST-invoice-resend-email",
    summary="Email an invoice to the customer again",
    description=(
        "Sends the stored invoice PDF again to the customer email address on the invoice, from the tenant's "
        "email address. Accepted means queued: the stream worker sends it, retrying while the mail server "
        "is away; the invoice's `emailedAt` then records the time."
    ),
    status_code=202,
    responses=error_responses(400, 401, 403, 404, 409, 500, 503),
)
async def resend_invoice_email(
    tenant: Tenant, invoiceNumber: Annotated[str, Path(max_length=128)], res: Resources
) -> InvoiceEmailAccepted:
    queued = await services.request_invoice_email(res.settings, res.invoices, res.publisher, tenant, invoiceNumber)
    return InvoiceEmailAccepted(
        invoiceNumber=queued.invoice_number,
        recipient=queued.recipient,
        message=f"Invoice {queued.invoice_number} will be emailed to {queued.recipient}",
    )
