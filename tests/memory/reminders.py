"""The reminder state of invoices in memory (infra/reminders.py's ReminderRepository): the same buckets and
claims, each check-and-set without an await in between, so it is as atomic as the store's update."""

import asyncio
from dataclasses import replace
from datetime import date

from infra.reminders import ReminderCandidate, ReminderEmailState
from invoicing.settlement import InvoicePaymentStatus, OpenAmount


class MemoryReminders:
    def __init__(self) -> None:
        self.invoices: dict[str, ReminderCandidate] = {}
        self.next_on: dict[str, date] = {}
        self.swept: date | None = None

    def add(self, invoice: ReminderCandidate, next_on: date) -> None:
        self.invoices[invoice.record_id] = invoice
        self.next_on[invoice.record_id] = next_on

    def settle(self, record_id: str, status: InvoicePaymentStatus) -> None:
        self.invoices[record_id] = replace(self.invoices[record_id], status=status)

    async def swept_through(self) -> date | None:
        return self.swept

    async def mark_swept(self, day: date) -> None:
        self.swept = day if self.swept is None else max(self.swept, day)

    async def unsettled(self) -> list[OpenAmount]:
        return [
            OpenAmount(invoice.status, invoice.due_on, invoice.currency, invoice.amount_due)
            for invoice in self.invoices.values()
            if invoice.issued and not invoice.settled
        ]

    async def due_on(self, day: date) -> list[ReminderCandidate]:
        await asyncio.sleep(0)  # lets a concurrent pass run in between, as a real query would
        return [self.invoices[key] for key, on in self.next_on.items() if on == day]

    async def claim_overdue(self, record_id: str, since: date) -> bool:
        await asyncio.sleep(0)
        invoice = self.invoices[record_id]
        if invoice.overdue_since is not None:
            return False
        self.invoices[record_id] = replace(invoice, overdue_since=since)
        return True

    async def mark_overdue_announced(self, record_id: str) -> None:
        self.invoices[record_id] = replace(self.invoices[record_id], overdue_announced=True)

    async def claim_level(self, record_id: str, sent: int, level: int) -> bool:
        await asyncio.sleep(0)
        invoice = self.invoices[record_id]
        if invoice.sent != sent:
            return False
        self.invoices[record_id] = replace(invoice, sent=level)
        return True

    async def mark_queued(self, record_id: str, level: int) -> None:
        invoice = self.invoices[record_id]
        self.invoices[record_id] = replace(invoice, queued=max(invoice.queued, level))

    async def move_to(self, record_id: str, day: date | None) -> None:
        if day is None:
            self.next_on.pop(record_id, None)
        else:
            self.next_on[record_id] = day

    async def find(self, record_id: str) -> ReminderCandidate | None:
        return self.invoices.get(record_id)

    async def mark_reminder_email(self, record_id: str, level: int, state: ReminderEmailState) -> None:
        invoice = self.invoices[record_id]
        self.invoices[record_id] = replace(invoice, emails={**invoice.emails, level: state})
