"""Emailing an issued invoice to the customer: the pipeline's first attempt, and the email agent's
retries and resends. The PDF sent is the stored one, byte for byte; the words are in the invoice's
language; the sender is the tenant's email from its seller settings, or the configured default."""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pymongo.errors import ConnectionFailure
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from infra.mail import OutgoingEmail
from infra.ports import InvoiceStorage, InvoiceStore, MailSender, TenantSettingsStore
from infra.records import InvoiceRecord, as_stored
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


def message_id(tenant: str, document: InvoiceDocument, sender: str) -> str:
    """The Message-ID of a document's email, the same for its first send and every automatic retry.

    SMTP has no idempotency key: when the mail server took the email and the worker died before recording
    it, the next attempt sends it again. With the same Message-ID that second copy is the same message
    (RFC 5322), which mail systems that keep Message-IDs deliver once. An explicit resend is a new message."""
    digest = hashlib.sha256(f"{tenant}\x1f{document.kind.value}\x1f{document.invoice_number}".encode()).hexdigest()
    return f"<{document.kind.value}.{digest[:40]}@{sender.rpartition('@')[2] or 'invoice-service'}>"


async def email_invoice(
    record: InvoiceRecord, deps: EmailDeps, pdf: bytes | None = None, sender: str | None = None, resend: bool = False
) -> str:
    """Send the invoice's PDF (`pdf`, or the stored file) to the customer and record when; returns the
    recipient. Raises NoRecipient, or infra.mail.EmailNotSent when the mail server did not take it.
    `sender` is the From address when the caller knows it; else the tenant's current one is read.
    `resend`: a client asked for it again, so it is a new message (a Message-ID of its own)."""
    if pdf is None:
        invoice_recipient(record.customer_email)  # raises NoRecipient before the file is fetched for nobody
        # The key the PDF was stored under (recorded when it was issued), not one rebuilt from the number.
        pdf = await deps.storage.get(record.storage_key or invoice_key(record.tenant, record.number))
    recipient = await send_document(
        record.tenant, record.invoice_document(), record.customer_email, pdf, deps, sender=sender, resend=resend
    )
    emailed_at = as_stored(deps.now())  # an announcement from the stored time gets the same ce_id
    # Recorded first, as soon as the mail server took it: the moment between the two is the one in which
    # a crash sends the email again. A store that is away for a moment must not make the caller's retry
    # send it again either.
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(ConnectionFailure), wait=wait_exponential(multiplier=0.2, max=15), reraise=True
    ):
        with attempt:
            await deps.invoices.mark_emailed(record, recipient, emailed_at)
    # Then announced; a crash before it is announced again by the redelivery (email_once), same ce_id.
    await deps.announce(emailed_event(record, emailed_at))
    # The customer's address stays out of the log: it is personal data, and the invoice records it.
    log.info("invoice emailed", extra={"tenant": record.tenant, "order": record.order_id, "number": record.number})
    return recipient


def emailed_event(record: InvoiceRecord, emailed_at: datetime) -> InvoiceEmailed:
    return InvoiceEmailed(
        tenant=record.tenant, orderId=record.order_id, invoiceNumber=record.number, emailedAt=emailed_at
    )


async def send_document(
    tenant: str,
    document: InvoiceDocument,
    customer_email: str | None,
    pdf: bytes,
    deps: EmailDeps,
    sender: str | None = None,
    resend: bool = False,
) -> str:
    """Send an invoice or a credit note (`document`, rendered as `pdf`) to the customer; returns the
    recipient. Raises NoRecipient, or infra.mail.EmailNotSent when the mail server did not take it."""
    recipient = invoice_recipient(customer_email)
    text = invoice_mail_text(document)
    if sender is None:
        sender = await sender_address(deps.tenant_settings, tenant, deps.default_sender)
    await deps.mailer.send(
        OutgoingEmail(
            tenant=tenant,
            sender=sender,
            sender_name=one_line(document.seller.legal_name),
            recipient=recipient,
            subject=text.subject,
            body=text.body,
            attachment=pdf,
            attachment_name=text.attachment_name,
            message_id=None if resend else message_id(tenant, document, sender),
        )
    )
    return recipient
