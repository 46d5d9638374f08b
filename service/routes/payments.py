"""Extension: payments on an invoice. Record one (scope `invoice.invoice_manage`), list them (scope
`invoice.invoice_read`). Declared before service/routes/invoices.py (service/app.py ROUTERS): its GET
`{invoiceNumber:path}` catch-all would take GET .../payments as the invoice "<number>/payments"."""

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response

from schemas.payments import InvoicePaymentList, InvoicePaymentRecorded, InvoicePaymentRequest
from service.auth import ManageScope, ReadScope
from service.dependencies import Invoices, Resources, Tenant
from service.errors import error_responses
from service.services import payments

router = APIRouter(tags=["Invoices (extension)"])

InvoiceNumber = Annotated[str, Path(max_length=128, description="The printed invoice number (may hold '/').")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Makes a retry safe: the same key for the same invoice answers the first payment again "
        "(200); the same key with another body answers 409.",
    ),
]


@router.post(
    "/invoice/{tenant}/invoices/{invoiceNumber:path}/payments",  # numbers may hold "/"
    dependencies=[ManageScope],
    operation_id="POST-invoice-record-payment",
    summary="Record a payment received for an invoice (partial or full)",
    description=(
        "Records money received, in the invoice's currency, up to the amount due (gross less credit notes "
        "less payments). 201 with the payment and the invoice's new settlement; 200 with the first answer "
        "for a retry under the same `Idempotency-Key`. 400 for an amount that is not positive or has more "
        "decimals than the currency, or another currency; 409 above the amount due (message and "
        "detailInfo say what is open) or for a key used before with another body."
    ),
    status_code=201,
    responses={
        200: {"model": InvoicePaymentRecorded, "description": "A retry"},
        **error_responses(400, 401, 403, 404, 409, 500, 503),
    },
)
async def record_payment(
    tenant: Tenant,
    invoiceNumber: InvoiceNumber,
    body: InvoicePaymentRequest,
    invoices: Invoices,
    res: Resources,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> InvoicePaymentRecorded:
    deps = payments.PaymentDeps(res.settings, invoices, res.publisher, res.clock)
    recorded = await payments.record_invoice_payment(deps, tenant, invoiceNumber, body, idempotency_key)
    if recorded.result.replayed:
        response.status_code = 200
    return InvoicePaymentRecorded(
        payment=payments.payment_view(recorded.result.payment),
        invoice=payments.settlement_view(recorded.invoice, res.clock(), recorded.result),
    )


@router.get(
    "/invoice/{tenant}/invoices/{invoiceNumber:path}/payments",  # numbers may hold "/"
    dependencies=[ReadScope],
    operation_id="GET-invoice-list-payments",
    summary="The payments of an invoice, in the order recorded, and its settlement",
    responses=error_responses(401, 403, 404, 409, 500, 503),
)
async def list_payments(
    tenant: Tenant, invoiceNumber: InvoiceNumber, invoices: Invoices, res: Resources
) -> InvoicePaymentList:
    invoice = await payments.invoice_payments(invoices, tenant, invoiceNumber)
    return InvoicePaymentList(
        items=[payments.payment_view(p) for p in invoice.payments],
        invoice=payments.settlement_view(invoice, res.clock()),
    )
