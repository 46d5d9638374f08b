"""Extension: email an issued invoice to the customer again, for a customer who lost it (scope
`invoice.invoice_manage`)."""

from typing import Annotated

from fastapi import APIRouter, Path

from invoicing.delivery import recipient_problem
from schemas.api import InvoiceEmailAccepted
from schemas.events import EmailReason, InvoiceEmailRequested
from service.auth import ManageScope
from service.dependencies import Resources, Tenant
from service.errors import ApiError
from service.routes.jobs import ERROR

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
    responses={400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR, 500: ERROR, 503: ERROR},
)
async def resend_invoice_email(
    tenant: Tenant, invoiceNumber: Annotated[str, Path(max_length=128)], res: Resources
) -> InvoiceEmailAccepted:
    invoice = await res.invoices.find_by_number(tenant, invoiceNumber)
    if invoice is None:
        raise ApiError(404, f"Invoice {invoiceNumber} not found for tenant {tenant}")
    if not invoice.issued:
        raise ApiError(409, f"Invoice {invoiceNumber} is still being made; try again in a moment")
    problem = recipient_problem(invoice.customer_email)
    if problem is not None or invoice.customer_email is None:
        raise ApiError(409, f"Invoice {invoiceNumber} cannot be emailed: {problem}")
    recipient = invoice.customer_email.strip()
    request = InvoiceEmailRequested(
        tenant=tenant, orderId=invoice.order_id, invoiceNumber=invoice.number, reason=EmailReason.RESEND
    )
    # Keyed like the order, so the email agent handles one order's emails in the order they were asked for.
    await res.publisher.publish(
        res.settings.topic(res.settings.topic_invoice_emails), f"{tenant}:{invoice.order_id}", request.to_bytes()
    )
    return InvoiceEmailAccepted(
        invoiceNumber=invoice.number,
        recipient=recipient,
        message=f"Invoice {invoice.number} will be emailed to {recipient}",
    )
