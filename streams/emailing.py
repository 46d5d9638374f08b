"""Emailing an issued invoice to the customer: the pipeline's first attempt, and the email agent's
retries and resends. The PDF sent is the stored one, byte for byte; the words are in the invoice's
language; the sender is the tenant's email from its seller settings, or the configured default."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pymongo.errors import ConnectionFailure
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from infra.mail import OutgoingEmail
from infra.ports import InvoiceStorage, InvoiceStore, MailSender, TenantSettingsStore
from infra.records import InvoiceRecord
from infra.storage import invoice_key
from invoicing.document import InvoiceDocument
from invoicing.recipients import invoice_recipient
from schemas.events import utc_now
from schemas.public_events import InvoiceEmailed
from schemas.settings import SellerSettings
from streams.announcements import Announce, keep_to_yourself
from streams.rendering.mail import invoice_mail_text, one_line

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmailDeps:
    invoices: InvoiceStore
    tenant_settings: TenantSettingsStore
    storage: InvoiceStorage
    mailer: MailSender
    default_sender: str
    now: Callable[[], datetime] = utc_now
    # Publishes invoice.emailed / invoice.email_failed (streams/public_events.py in the worker).
    announce: Announce = keep_to_yourself


async def sender_address(tenant_settings: TenantSettingsStore, tenant: str, default: str) -> str:
    """The tenant's address as it is now (a resend months later comes from where the tenant is now)."""
    seller = await tenant_settings.read(tenant, SellerSettings)
    return seller.email if seller is not None and seller.email else default


async def email_invoice(
    record: InvoiceRecord, deps: EmailDeps, pdf: bytes | None = None, sender: str | None = None
) -> str:
    """Send the invoice's PDF (`pdf`, or the stored file) to the customer and record when; returns the
    recipient. Raises NoRecipient, or infra.mail.EmailNotSent when the mail server did not take it.
    `sender` is the From address when the caller knows it; else the tenant's current one is read."""
    if pdf is None:
        invoice_recipient(record.customer_email)  # raises NoRecipient before the file is fetched for nobody
        # The key the PDF was stored under (recorded when it was issued), not one rebuilt from the number.
        pdf = await deps.storage.get(record.storage_key or invoice_key(record.tenant, record.number))
    recipient = await send_document(
        record.tenant, record.invoice_document(), record.customer_email, pdf, deps, sender=sender
    )
    emailed_at = deps.now()
    # Announced before it is recorded: a crash in between sends the email again on redelivery (SMTP has
    # no idempotency key) and announces that second send, but never leaves a send unannounced.
    await deps.announce(
        InvoiceEmailed(tenant=record.tenant, orderId=record.order_id, invoiceNumber=record.number, emailedAt=emailed_at)
    )
    # The email is out: a store that is away for a moment must not make the caller's retry send it again.
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(ConnectionFailure), wait=wait_exponential(multiplier=0.2, max=15), reraise=True
    ):
        with attempt:
            await deps.invoices.mark_emailed(record.tenant, record.order_id, recipient, emailed_at)
    # The customer's address stays out of the log: it is personal data, and the invoice records it.
    log.info("invoice emailed", extra={"tenant": record.tenant, "order": record.order_id, "number": record.number})
    return recipient


async def send_document(
    tenant: str,
    document: InvoiceDocument,
    customer_email: str | None,
    pdf: bytes,
    deps: EmailDeps,
    sender: str | None = None,
) -> str:
    """Send an invoice or a credit note (`document`, rendered as `pdf`) to the customer; returns the
    recipient. Raises NoRecipient, or infra.mail.EmailNotSent when the mail server did not take it."""
    recipient = invoice_recipient(customer_email)
    text = invoice_mail_text(document)
    if sender is None:
        sender = await sender_address(deps.tenant_settings, tenant, deps.default_sender)
    await deps.mailer.send(
        OutgoingEmail(
            sender=sender,
            sender_name=one_line(document.seller.legal_name),
            recipient=recipient,
            subject=text.subject,
            body=text.body,
            attachment=pdf,
            attachment_name=text.attachment_name,
        )
    )
    return recipient
