"""The API's application services: what a path operation asks for, on the ports of `infra/ports.py`.

A path operation parses, authorises, calls one of these and shapes the answer. These raise the errors
of `common`, which `service/errors.py` turns into answers; they know nothing of HTTP. One module per
resource (`jobs`, `invoices`, `credit_notes`); this package names them all, so callers write
`services.create_job`.
"""

from service.services.common import Conflict, InvalidRequest, NotFound, Page, Unconfirmed, publish_or_withdraw
from service.services.credit_notes import CreditServices, credit_note, left_to_credit_detail, request_credit_note
from service.services.invoices import (
    EmailRequested,
    InvoiceReading,
    credit_note_summary,
    invoice_detail,
    invoice_summary,
    issued_invoice,
    issued_invoice_xml,
    list_documents,
    request_invoice_email,
)
from service.services.jobs import JobServices, create_job, job_order_fields, job_summary, job_with_orders, list_jobs
from service.services.payments import PaymentRecorded, record_invoice_payment

__all__ = [
    "Conflict",
    "CreditServices",
    "EmailRequested",
    "InvalidRequest",
    "InvoiceReading",
    "JobServices",
    "NotFound",
    "Page",
    "PaymentRecorded",
    "Unconfirmed",
    "create_job",
    "credit_note",
    "credit_note_summary",
    "invoice_detail",
    "invoice_summary",
    "issued_invoice",
    "issued_invoice_xml",
    "job_order_fields",
    "job_summary",
    "job_with_orders",
    "left_to_credit_detail",
    "list_documents",
    "list_jobs",
    "publish_or_withdraw",
    "record_invoice_payment",
    "request_credit_note",
    "request_invoice_email",
]
