"""The documents the service emails, as the email flow (streams/emailing.py) sees them: an invoice and a
credit note, each its record and the store that records its email state. A reminder would be a third."""

from dataclasses import dataclass
from datetime import datetime

from infra.metrics import EmailedKind
from infra.ports import CreditNoteStore, InvoiceStore
from infra.records import CreditNoteRecord, InvoiceRecord
from infra.storage import credit_note_key, invoice_key
from invoicing.document import InvoiceDocument
from schemas.events import EmailReason, InvoiceEmailRequested
from schemas.public_events import PublicEventT
from streams.announcements import credit_note_email_failed, credit_note_emailed, invoice_email_failed, invoice_emailed
from streams.rendering.mail import MailText, invoice_mail_text


class OfInvoice:
    """What an invoice record answers of an EmailedDocument: the invoice's own email and its reminders
    (streams/reminder_email.py) name the same invoice, its site, its customer and its PDF."""

    record: InvoiceRecord

    @property
    def tenant(self) -> str:
        return self.record.tenant

    @property
    def site_code(self) -> str | None:
        return self.record.site_code

    @property
    def order_id(self) -> str:
        return self.record.order_id

    @property
    def number(self) -> str:
        return self.record.number

    @property
    def customer_email(self) -> str | None:
        return self.record.customer_email

    @property
    def storage_key(self) -> str:
        return self.record.storage_key or invoice_key(self.record.tenant, self.record.number)


@dataclass(frozen=True)
class InvoiceEmail(OfInvoice):
    record: InvoiceRecord
    invoices: InvoiceStore

    @property
    def kind(self) -> EmailedKind:
        return "invoice"

    @property
    def emailed_at(self) -> datetime | None:
        return self.record.emailed_at

    @property
    def email_pending(self) -> bool:
        return self.record.email_pending

    @property
    def email_error(self) -> str | None:
        return self.record.email_error

    def content(self) -> InvoiceDocument:
        return self.record.invoice_document()

    async def mark_emailed(self, recipient: str, at: datetime) -> None:
        await self.invoices.mark_emailed(self.record, recipient, at)

    async def mark_email_pending(self, reason: str) -> None:
        await self.invoices.mark_email_pending(self.record, reason)

    async def mark_email_failed(self, reason: str) -> None:
        await self.invoices.mark_email_failed(self.record, reason)

    def emailed_event(self, emailed_at: datetime) -> PublicEventT:
        return invoice_emailed(self.record, emailed_at)

    def failed_event(self, reason: str, *, retrying: bool) -> PublicEventT:
        return invoice_email_failed(self.record, reason, retrying=retrying)

    def mail_text(self) -> MailText:
        return invoice_mail_text(self.content())

    @property
    def message_variant(self) -> str:
        return ""

    def retry_request(self) -> InvoiceEmailRequested:
        record = self.record
        return InvoiceEmailRequested(
            tenant=record.tenant, orderId=record.order_id, invoiceNumber=record.number, reason=EmailReason.RETRY
        )


@dataclass(frozen=True)
class CreditNoteEmail:
    note: CreditNoteRecord
    credit_notes: CreditNoteStore

    @property
    def kind(self) -> EmailedKind:
        return "credit_note"

    @property
    def tenant(self) -> str:
        return self.note.tenant

    @property
    def site_code(self) -> str | None:
        return self.note.site_code

    @property
    def order_id(self) -> str:
        return self.note.order_id

    @property
    def number(self) -> str:
        return self.note.number

    @property
    def customer_email(self) -> str | None:
        return self.note.customer_email

    @property
    def storage_key(self) -> str:
        return self.note.storage_key or credit_note_key(self.note.tenant, self.note.number)

    @property
    def emailed_at(self) -> datetime | None:
        return self.note.emailed_at

    @property
    def email_pending(self) -> bool:
        return self.note.email_pending

    @property
    def email_error(self) -> str | None:
        return self.note.email_error

    def content(self) -> InvoiceDocument:
        return self.note.credit_document()

    async def mark_emailed(self, recipient: str, at: datetime) -> None:
        await self.credit_notes.mark_emailed(self.note.tenant, self.note.note_id, recipient, at)

    async def mark_email_pending(self, reason: str) -> None:
        await self.credit_notes.mark_email_pending(self.note.tenant, self.note.note_id, reason)

    async def mark_email_failed(self, reason: str) -> None:
        await self.credit_notes.mark_email_failed(self.note.tenant, self.note.note_id, reason)

    def emailed_event(self, emailed_at: datetime) -> PublicEventT:
        return credit_note_emailed(self.note, emailed_at)

    def failed_event(self, reason: str, *, retrying: bool) -> PublicEventT:
        return credit_note_email_failed(self.note, reason, retrying=retrying)

    def mail_text(self) -> MailText:
        return invoice_mail_text(self.content())

    @property
    def message_variant(self) -> str:
        return ""

    def retry_request(self) -> InvoiceEmailRequested:
        note = self.note
        return InvoiceEmailRequested(
            tenant=note.tenant,
            orderId=note.order_id,
            invoiceNumber=note.invoice_number,
            reason=EmailReason.RETRY,
            creditNoteId=note.note_id,
        )
