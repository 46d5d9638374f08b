"""A reminder as the email flow (streams/emailing.py) sees it: one more `EmailedDocument`, the invoice's
PDF attached, its words the level's (invoicing/reminders.py), its email state per level on the invoice
(infra/reminders.py), so each level is emailed once and retried like any first send that failed."""

from dataclasses import dataclass
from datetime import datetime

from infra.metrics import REMINDERS_SENT, EmailedKind
from infra.ports import ReminderStore
from infra.records import InvoiceRecord
from infra.reminders import ReminderCandidate, ReminderEmailState
from invoicing.document import InvoiceDocument
from invoicing.reminders import Level, ReminderFacts, reminder_text
from schemas.events import InvoiceEmailRequested
from schemas.public_events import PublicEventT
from streams.email_documents import OfInvoice
from streams.reminding import reminder_request
from streams.rendering.mail import MailText, invoice_mail_text


@dataclass(frozen=True)
class ReminderEmail(OfInvoice):
    record: InvoiceRecord
    invoice: ReminderCandidate  # its settlement and reminder state as read for this send
    level_number: int
    level: Level
    reminders: ReminderStore

    @property
    def kind(self) -> EmailedKind:
        return "reminder"

    @property
    def _state(self) -> ReminderEmailState:
        return self.invoice.emails.get(self.level_number) or ReminderEmailState()

    @property
    def emailed_at(self) -> datetime | None:
        return self._state.emailed_at

    @property
    def email_pending(self) -> bool:
        return self._state.pending

    @property
    def email_error(self) -> str | None:
        return self._state.error

    def content(self) -> InvoiceDocument:
        return self.record.invoice_document()

    def mail_text(self) -> MailText:
        invoice = self.invoice
        if invoice.due_on is None:
            raise ValueError(f"invoice {invoice.number} has no due date to remind of")
        facts = ReminderFacts(
            number=invoice.number,
            seller=invoice.seller,
            buyer=invoice.buyer,
            amount_due=invoice.amount_due,
            currency=invoice.currency,
            due_on=invoice.due_on,
            language=invoice.language,
            locale=invoice.locale,
        )
        text = reminder_text(facts, self.level_number, self.level)
        return MailText(text.subject, text.body, invoice_mail_text(self.content()).attachment_name)

    @property
    def message_variant(self) -> str:
        return f"reminder-{self.level_number}"

    async def mark_emailed(self, recipient: str, at: datetime) -> None:
        await self.reminders.mark_reminder_email(self.invoice.record_id, self.level_number, ReminderEmailState(at))
        REMINDERS_SENT.labels(str(self.level_number)).inc()

    async def mark_email_pending(self, reason: str) -> None:
        state = ReminderEmailState(pending=True, error=reason)
        await self.reminders.mark_reminder_email(self.invoice.record_id, self.level_number, state)

    async def mark_email_failed(self, reason: str) -> None:
        state = ReminderEmailState(error=reason)
        await self.reminders.mark_reminder_email(self.invoice.record_id, self.level_number, state)

    def emailed_event(self, emailed_at: datetime) -> PublicEventT | None:
        return None

    def failed_event(self, reason: str, *, retrying: bool) -> PublicEventT | None:
        return None

    def retry_request(self) -> InvoiceEmailRequested:
        return reminder_request(self.invoice, self.level_number)
