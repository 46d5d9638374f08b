"""Extensions: email an issued invoice to the customer again, for a customer who lost it (scope
`invoice.invoice_manage`); an issued invoice's e-invoice XML (scope `invoice.invoice_read`, or a signed
link from the job's `xmlLink`)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Security
from fastapi.responses import Response
from fastapi.security import SecurityScopes

from infra.clients import SCOPE_READ
from invoicing.einvoice import EInvoiceFormat
from schemas.api import InvoiceEmailAccepted
from service import services
from service.auth import ManageScope, authorized, oauth2
from service.dependencies import Resources, Tenant
from service.errors import ApiError, error_responses

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


@router.get(
    "/invoice/{tenant}/invoices/{invoiceNumber:path}/xml",  # numbers may hold "/"
    operation_id="GET-invoice-einvoice-xml",
    summary="An invoice as e-invoice XML (Factur-X CII, XRechnung CII or UBL, Peppol BIS Billing 3.0)",
    description=(
        "Made from the stored invoice and the e-invoice settings it was issued with. `facturx` is the XML "
        "embedded in the invoice PDF (profile EN 16931 or XRECHNUNG per settings/einvoice). Needs a token "
        "with `invoice.invoice_read`, or `expires` and `signature` of a signed link (the job's `xmlLink`). "
        "409 when the invoice lacks what the format needs; the message names each business term (BT-nn)."
    ),
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **error_responses(400, 401, 403, 404, 409, 500, 503)},
)
async def invoice_xml(
    tenant: Tenant,
    invoiceNumber: Annotated[str, Path(max_length=128)],
    res: Resources,
    # Declared with its scope for the OpenAPI document; checked below unless a signed link is used.
    authorization: Annotated[str | None, Security(oauth2, scopes=[SCOPE_READ])],
    fmt: Annotated[EInvoiceFormat, Query(alias="format", description="The XML format")] = EInvoiceFormat.FACTURX,
    expires: Annotated[int | None, Query(description="Of a signed link")] = None,
    signature: Annotated[str | None, Query(max_length=128, description="Of a signed link")] = None,
) -> Response:
    if expires is not None or signature is not None:
        if (
            expires is None
            or signature is None
            or not res.signer.verify(tenant, invoiceNumber, expires, signature, what="xml")
        ):
            raise ApiError(403, "XML link is invalid or has expired; read the job again for a fresh link")
    else:
        await authorized(SecurityScopes([SCOPE_READ]), tenant, res, authorization)
    xml = await services.issued_invoice_xml(res.invoices, tenant, invoiceNumber, fmt)
    filename = f"{invoiceNumber.replace('/', '_')}-{fmt.value}.xml"
    return Response(
        xml, media_type="application/xml", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
