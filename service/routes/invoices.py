"""Extensions: invoices and credit notes as a resource (list, one invoice; scope `invoice.invoice_read`);
emailing an issued invoice to the customer again, for a customer who lost it (scope
`invoice.invoice_manage`); an issued invoice's e-invoice XML (scope `invoice.invoice_read`, or a signed
link from the job's `xmlLink`)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Security
from fastapi.responses import Response
from fastapi.security import SecurityScopes
from pydantic import AwareDatetime

from infra.clients import SCOPE_READ
from infra.records import InvoiceFilter
from invoicing.einvoice import EInvoiceFormat
from invoicing.sites import SITE_CODE_MAX_LENGTH, SITE_CODE_PATTERN
from schemas.api import (
    DocumentType,
    EmailStatus,
    InvoiceDetail,
    InvoiceEmailAccepted,
    InvoicePage,
    InvoicePaymentStatus,
)
from service import services
from service.auth import ManageScope, ReadScope, authorized, oauth2
from service.dependencies import (
    QUOTA_EXCEEDED,
    AppSettings,
    ClientChecks,
    InvoiceReads,
    Invoices,
    Publisher,
    ResendQuota,
    Signer,
    Tenant,
    Tokens,
)
from service.disposition import attachment
from service.errors import ApiError, error_responses
from service.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decode_cursor, next_cursor

router = APIRouter(tags=["Invoices (extension)"])

InvoiceNumber = Annotated[str, Path(max_length=128, description="The printed invoice number (may hold '/').")]


@router.get(
    "/invoice/{tenant}/invoices",
    dependencies=[ReadScope],
    operation_id="GET-invoice-list-invoices",
    summary="List issued invoices or credit notes, newest first",
    description=(
        "The tenant's issued invoices (or, with `type=credit-note`, its credit notes), newest first, "
        "`limit` at a time. Pass `nextCursor` as `cursor` for the next page: pages are keyed by (issue "
        "instant, ID), so invoices issued meanwhile never shift or repeat items of later pages. Filters "
        "combine (AND). Links are signed at read time and expire."
    ),
    response_model_exclude_none=True,
    responses=error_responses(400, 401, 403, 500, 503),
)
async def list_invoices(
    tenant: Tenant,
    reads: InvoiceReads,
    orderId: Annotated[str | None, Query(max_length=64)] = None,
    invoiceNumber: Annotated[str | None, Query(max_length=128)] = None,
    jobId: Annotated[str | None, Query(max_length=64)] = None,
    issuedFrom: Annotated[AwareDatetime | None, Query(description="Issued at or after (with offset).")] = None,
    issuedTo: Annotated[AwareDatetime | None, Query(description="Issued before (with offset).")] = None,
    type: Annotated[DocumentType, Query()] = DocumentType.INVOICE,
    emailStatus: Annotated[EmailStatus | None, Query()] = None,
    siteCode: Annotated[
        str | None,
        Query(
            pattern=SITE_CODE_PATTERN,
            min_length=1,
            max_length=SITE_CODE_MAX_LENGTH,
            description="Extension: only the documents of orders of this site (the order's `siteCode`).",
            examples=["fr"],
        ),
    ] = None,
    paymentStatus: Annotated[
        InvoicePaymentStatus | None, Query(description="As shown: overdue is open or partially paid past dueOn.")
    ] = None,
    dueFrom: Annotated[date | None, Query(description="Due on or after this day.")] = None,
    dueTo: Annotated[date | None, Query(description="Due before this day.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=512, description="`nextCursor` of the page before.")] = None,
) -> InvoicePage:
    listing = type.value
    where = InvoiceFilter(
        order_id=orderId,
        invoice_number=invoiceNumber,
        job_id=jobId,
        issued_from=issuedFrom,
        issued_to=issuedTo,
        email_status=emailStatus,
        site_code=siteCode,
        payment_status=paymentStatus,
        due_from=dueFrom,
        due_to=dueTo,
    )
    page = await services.list_documents(reads, tenant, type, where, decode_cursor(listing, cursor), limit)
    return InvoicePage(items=page.items, nextCursor=next_cursor(listing, page.keys, limit))


@router.post(
    "/invoice/{tenant}/invoices/{invoiceNumber:path}/email",  # numbers may hold "/"
    dependencies=[ManageScope, ResendQuota],  # in this order: only an authorised request uses the quota
    operation_id="POST-invoice-resend-email",
    summary="Email an invoice to the customer again",
    description=(
        "Sends the stored invoice PDF again to the customer email address on the invoice, from the tenant's "
        "email address. Accepted means queued: the stream worker sends it, retrying while the mail server "
        "is away; the invoice's `emailedAt` then records the time. At most "
        "`quota_resends_per_invoice_per_hour` requests per invoice per hour (429 with Retry-After beyond)."
    ),
    status_code=202,
    responses={**error_responses(400, 401, 403, 404, 409, 500, 503), **QUOTA_EXCEEDED},
)
async def resend_invoice_email(
    tenant: Tenant, invoiceNumber: InvoiceNumber, settings: AppSettings, invoices: Invoices, publisher: Publisher
) -> InvoiceEmailAccepted:
    queued = await services.request_invoice_email(settings, invoices, publisher, tenant, invoiceNumber)
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
    invoiceNumber: InvoiceNumber,
    signer: Signer,
    invoices: Invoices,
    tokens: Tokens,
    client_checks: ClientChecks,
    # Declared with its scope for the OpenAPI document; checked below unless a signed link is used.
    authorization: Annotated[str | None, Security(oauth2, scopes=[SCOPE_READ])],
    fmt: Annotated[EInvoiceFormat, Query(alias="format", description="The XML format")] = EInvoiceFormat.FACTURX,
    expires: Annotated[int | None, Query(description="Of a signed link")] = None,
    signature: Annotated[str | None, Query(description="Of a signed link")] = None,
    kid: Annotated[str | None, Query(description="Of a signed link: the id of the key that signed it")] = None,
) -> Response:
    if expires is not None or signature is not None:
        if (
            expires is None
            or signature is None
            or not signer.verify(tenant, invoiceNumber, expires, signature, what="xml", kid=kid)
        ):
            raise ApiError(403, "XML link is invalid or has expired; read the job again for a fresh link")
    else:
        await authorized(SecurityScopes([SCOPE_READ]), tenant, tokens, client_checks, authorization)
    xml = await services.issued_invoice_xml(invoices, tenant, invoiceNumber, fmt)
    filename = f"{invoiceNumber.replace('/', '_')}-{fmt.value}.xml"
    return Response(xml, media_type="application/xml", headers={"Content-Disposition": attachment(filename)})


# Last: `{invoiceNumber:path}` would also match the paths of the routes above (numbers may hold '/').
@router.get(
    "/invoice/{tenant}/invoices/{invoiceNumber:path}",  # numbers may hold "/"
    dependencies=[ReadScope],
    operation_id="GET-invoice-retrieve-invoice",
    summary="One issued invoice, with its lines and its credit notes",
    response_model_exclude_none=True,
    responses=error_responses(401, 403, 404, 500, 503),
)
async def get_invoice(tenant: Tenant, invoiceNumber: InvoiceNumber, reads: InvoiceReads) -> InvoiceDetail:
    return await services.invoice_detail(reads, tenant, invoiceNumber)
