"""Emailing a document to its customer: one flow for invoices and credit notes (and whatever document
comes next: a reminder is a third `EmailedDocument`). The first attempt (`email_once`, by the pipeline
and by the credit-note maker) and the email agent's retries and resends (`send_requested`) count the
same metrics, labelled by `document`, and announce the document's emailed / email_failed public event.

What holds for every document: it is emailed once (its `emailed_at` is recorded as soon as the mail
server took it, and checked before every automatic attempt); every automatic attempt carries the same
Message-ID; a first send that failed is handed to the email agent (topic invoice-emails), which retries
it; the customer's address reaches no log line in clear. The PDF sent is the stored one, byte for byte;
the words are in the document's language; the sender is the tenant's email from its seller settings,
or the configured default.
"""

import asyncio
import hashlib
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pymongo.errors import ConnectionFailure
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from infra.mail import EmailNotSent, OutgoingEmail
from infra.metrics import EMAILS_FAILED, EMAILS_PENDING, EMAILS_SENT, EmailedKind
from infra.ports import InvoiceStorage, InvoiceStore, MailSender, TenantSettingsStore
from infra.records import as_stored
from invoicing.document import InvoiceDocument
from invoicing.recipients import NoRecipient, invoice_recipient
from schemas.events import InvoiceEmailRequested, utc_now
from schemas.public_events import PublicEventT
from schemas.settings import SellerSettings
from streams.announcements import Announce, keep_to_yourself
from streams.rendering.mail import MailText, invoice_mail_text, one_line

log = logging.getLogger(__name__)

# Hands an email whose first send failed to the email agent (topic invoice-emails), which retries it.
QueueEmail = Callable[[InvoiceEmailRequested], Awaitable[None]]


class EmailedDocument(Protocol):
    """The port of the email flow: what it needs of a document it emails. Its kind (the metrics' label),
    who and what it is, where its PDF is stored, its email state as stored and how to record a change of
    it, its public events, and the request that retries its email. `streams/email_documents.py` holds
    the invoice's and the credit note's."""

    @property
    def kind(self) -> EmailedKind: ...
    @property
    def tenant(self) -> str: ...
    @property
    def site_code(self) -> str | None: ...  # the order's site: its own seller sends, else the tenant's
    @property
    def order_id(self) -> str: ...
    @property
    def number(self) -> str: ...
    @property
    def customer_email(self) -> str | None: ...
    @property
    def storage_key(self) -> str: ...
    @property
    def emailed_at(self) -> datetime | None: ...
    @property
    def email_pending(self) -> bool: ...
    @property
    def email_error(self) -> str | None: ...

    def content(self) -> InvoiceDocument:
        """The document as it was made: the email's words, language and seller come from it."""
        ...

    async def mark_emailed(self, recipient: str, at: datetime) -> None: ...
    async def mark_email_pending(self, reason: str) -> None: ...
    async def mark_email_failed(self, reason: str) -> None: ...
    def emailed_event(self, emailed_at: datetime) -> PublicEventT | None: ...
    def failed_event(self, reason: str, *, retrying: bool) -> PublicEventT | None: ...
    def retry_request(self) -> InvoiceEmailRequested: ...
    def mail_text(self) -> MailText:
        """The email's subject, body and attachment name, in the document's language."""
        ...

    @property
    def message_variant(self) -> str:
        """Tells apart the Message-IDs of several emails of one document (a reminder's level); "" for one."""
        ...


class InvoiceEmailLocks:
    """One lock per invoice of this worker, shared by the email agent's actors: they send an invoice's
    emails (its own, its reminders', its credit notes') one at a time, each reading the email state under
    the lock. So two copies of one request taken at the same moment (a duplicate queued by a pass that saw a
    reminder claimed but not yet queued, or by a crash between queueing and marking) send one email: the
    second finds the first's `emailed_at`. Copies of one request share a partition (keyed by order), hence a
    worker. A lock lives while someone holds or awaits it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def of(self, tenant: str, invoice_number: str) -> asyncio.Lock:
        key = f"{tenant}:{invoice_number}"
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock


@dataclass(frozen=True)
class EmailDeps:
    invoices: InvoiceStore
    tenant_settings: TenantSettingsStore
    storage: InvoiceStorage
    mailer: MailSender
    default_sender: str
    now: Callable[[], datetime] = utc_now
    # Publishes the documents' emailed / email_failed events (streams/public_events.py in the worker).
    announce: Announce = keep_to_yourself
    # One per worker (every actor's EmailDeps gets the worker's), so its actors send one invoice's at a time.
    sending: InvoiceEmailLocks = field(default_factory=InvoiceEmailLocks)

    async def announce_any(self, event: PublicEventT | None) -> None:
        if event is not None:  # a reminder's email has no public event of its own
            await self.announce(event)


def spelled(document: EmailedDocument) -> str:
    """The document's kind as the log says it: "invoice", "credit note"."""
    return document.kind.replace("_", " ")


def named(document: EmailedDocument) -> dict[str, str]:
    """The fields a log line about the document carries (its customer's address is never one)."""
    return {"tenant": document.tenant, "order": document.order_id, "number": document.number}


async def email_once(
    document: EmailedDocument,
    deps: EmailDeps,
    queue_email: QueueEmail,
    pdf: bytes | None = None,
    sender: str | None = None,
) -> str:
    """Email the document once, and say in its result's message what became of it. A failed send never
    undoes the document: it is handed to the email agent (a Kafka topic, so it outlives a worker restart),
    which retries with backoff. A redelivery reports what happened the first time. `pdf` is the one just
    stored, `sender` the From address when the caller knows it (else the tenant's current one is read)."""
    address = (document.customer_email or "").strip()
    if document.emailed_at is not None:
        # Announced again (same ce_id): the first attempt may have died between recording and announcing.
        await deps.announce_any(document.emailed_event(document.emailed_at))
        return f" and emailed to {address}"
    if document.email_pending:
        return f"; the email to {address} is pending and will be retried ({document.email_error})"
    try:
        recipient = await email_document(document, deps, pdf, sender)
    except NoRecipient as nobody:
        return f"; no email was sent: {nobody}"
    except EmailNotSent as failure:
        if failure.permanent:
            await refused_for_good(document, deps, failure.reason)
            return f"; the email to {address} was refused and will not be retried ({failure.reason})"
        await queue_email(document.retry_request())
        # Marked after it is queued: a crash in between leaves a duplicate request at worst, never none.
        await document.mark_email_pending(failure.reason)
        EMAILS_PENDING.labels(document.kind).inc()
        await deps.announce_any(document.failed_event(failure.reason, retrying=True))
        log.warning("%s email pending: %s", spelled(document), failure.reason, extra=named(document))
        return f"; the email to {address} is pending and will be retried ({failure.reason})"
    EMAILS_SENT.labels("first", document.kind).inc()
    return f" and emailed to {recipient}"


async def send_requested(document: EmailedDocument, deps: EmailDeps, retrying: AsyncRetrying, resend: bool) -> None:
    """The email agent's send of a document's email: a retry of a first send that failed, or a resend a
    client asked for (`resend`: a new message, sent even when the document was emailed before). Retried
    as `retrying` says until the mail server takes it; a final refusal is recorded and ends the retries."""
    if not resend and document.emailed_at is not None:
        return  # sent meanwhile (by a redelivered first attempt, or an earlier copy of this request)
    try:
        async for attempt in retrying:
            with attempt:
                await email_document(document, deps, resend=resend)
        EMAILS_SENT.labels("queued", document.kind).inc()
    except NoRecipient as nobody:
        log.warning("%s not emailed: %s", spelled(document), nobody.for_log, extra=named(document))  # redacted
    except EmailNotSent as refused:
        log.warning("%s email refused, not retried: %s", spelled(document), refused.reason, extra=named(document))
        await refused_for_good(document, deps, refused.reason)


async def refused_for_good(document: EmailedDocument, deps: EmailDeps, reason: str) -> None:
    EMAILS_FAILED.labels(document.kind).inc()
    await document.mark_email_failed(reason)
    await deps.announce_any(document.failed_event(reason, retrying=False))


async def email_document(
    document: EmailedDocument,
    deps: EmailDeps,
    pdf: bytes | None = None,
    sender: str | None = None,
    resend: bool = False,
) -> str:
    """Send the document's PDF (`pdf`, or the stored file) to the customer and record when; returns the
    recipient. Raises NoRecipient, or infra.mail.EmailNotSent when the mail server did not take it.
    `sender` is the From address when the caller knows it; else the tenant's current one is read.
    `resend`: a client asked for it again, so it is a new message (a Message-ID of its own)."""
    if pdf is None:
        invoice_recipient(document.customer_email)  # raises NoRecipient before the file is fetched for nobody
        # The key the PDF was stored under (recorded when it was stored), not one rebuilt from the number.
        pdf = await deps.storage.get(document.storage_key)
    if sender is None:
        sender = await sender_address(deps.tenant_settings, document.tenant, deps.default_sender, document.site_code)
    recipient = await send_document(
        document.tenant,
        document.content(),
        document.customer_email,
        pdf,
        deps,
        sender=sender,
        resend=resend,
        text=document.mail_text(),
        variant=document.message_variant,
    )
    emailed_at = as_stored(deps.now())  # an announcement from the stored time gets the same ce_id
    # Recorded first, as soon as the mail server took it: the moment between the two is the one in which
    # a crash sends the email again. A store that is away for a moment must not make the caller's retry
    # send it again either.
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(ConnectionFailure), wait=wait_exponential(multiplier=0.2, max=15), reraise=True
    ):
        with attempt:
            await document.mark_emailed(recipient, emailed_at)
    # Then announced; a crash before it is announced again by the redelivery (email_once), same ce_id.
    await deps.announce_any(document.emailed_event(emailed_at))
    # The customer's address stays out of the log: it is personal data, and the document records it.
    log.info("%s emailed", spelled(document), extra=named(document))
    return recipient


async def sender_address(
    tenant_settings: TenantSettingsStore, tenant: str, default: str, site: str | None = None
) -> str:
    """The seller's address as it is now (a resend months later comes from where the seller is now): the
    site's own seller's for a document of a site with one, else the tenant's (invoicing/sites.py)."""
    seller = (await tenant_settings.read_all(tenant, site)).get(SellerSettings)
    return seller.email if seller is not None and seller.email else default


def message_id(tenant: str, document: InvoiceDocument, sender: str, variant: str = "") -> str:
    """The Message-ID of a document's email, the same for its first send and every automatic retry.

    SMTP has no idempotency key: when the mail server took the email and the worker died before recording
    it, the next attempt sends it again. With the same Message-ID that second copy is the same message
    (RFC 5322), which mail systems that keep Message-IDs deliver once. An explicit resend is a new message."""
    identity = f"{tenant}\x1f{document.kind.value}\x1f{document.invoice_number}" + (f"\x1f{variant}" if variant else "")
    digest = hashlib.sha256(identity.encode()).hexdigest()
    kind = f"{document.kind.value}.{variant}" if variant else document.kind.value
    return f"<{kind}.{digest[:40]}@{sender.rpartition('@')[2] or 'invoice-service'}>"


async def send_document(
    tenant: str,
    document: InvoiceDocument,
    customer_email: str | None,
    pdf: bytes,
    deps: EmailDeps,
    sender: str | None = None,
    resend: bool = False,
    text: MailText | None = None,
    variant: str = "",
) -> str:
    """Send an invoice or a credit note (`document`, rendered as `pdf`) to the customer; returns the
    recipient. Raises NoRecipient, or infra.mail.EmailNotSent when the mail server did not take it."""
    recipient = invoice_recipient(customer_email)
    text = text or invoice_mail_text(document)
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
            message_id=None if resend else message_id(tenant, document, sender, variant),
        )
    )
    return recipient
