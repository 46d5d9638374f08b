"""The reminder state an invoice document carries, and the conditional updates that move it.

Top-level fields of the invoice (the reminders' own; the settlement's are infra/settlements.py's):
`nextReminderOn` (ISO day: when the worker looks at the invoice next; absent once nothing is left to do),
`overdueSince` (ISO day), `overdueAnnounced`, `remindersSent` (the highest level claimed), `remindersQueued`
(the highest level handed to the email flow) and `reminderEmails` (each level's email state).

Why an equality on `nextReminderOn` stays selective: an invoice is in ONE day's bucket, the day its next
step is due (the day after its due date, then each level's day), and leaves it when that step is done or
it turns out settled. A pass reads the buckets from the day it last swept through to today, one indexed
equality each (FerretDB pushes equality down, infra/db.py), so it reads the invoices with something to do
that day and never all open invoices. The day swept through is kept in `reminder_sweeps`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from pymongo.asynchronous.database import AsyncDatabase

from infra.db import Document
from infra.settlements import due_on_of, settlement_of
from invoicing.document import InvoiceDocument
from invoicing.reminders import next_action_on
from invoicing.settlement import UNSETTLED, InvoicePaymentStatus, OpenAmount

SWEEP_ID = "reminders"


@dataclass(frozen=True)
class ReminderEmailState:
    emailed_at: datetime | None = None
    pending: bool = False
    error: str | None = None


@dataclass(frozen=True)
class ReminderCandidate:
    """An invoice found in a day's bucket, with what the pass decides by."""

    record_id: str
    tenant: str
    number: str
    order_id: str
    issued: bool
    status: InvoicePaymentStatus
    due_on: date | None
    currency: str
    amount_due: Decimal
    language: str
    locale: str
    seller: str
    buyer: str
    overdue_since: date | None
    overdue_announced: bool
    sent: int
    queued: int
    # Each level's email state, by level: when the mail server took it, or why it is pending / failed.
    emails: Mapping[int, ReminderEmailState] = field(default_factory=dict)
    site_code: str | None = None  # the order's site: its reminder settings, else the tenant's

    @property
    def settled(self) -> bool:
        return self.status not in UNSETTLED


def opening_reminder_fields(document: InvoiceDocument, at: datetime) -> Document:
    """A new unpaid invoice with a due date goes into the bucket of the day it becomes overdue."""
    due_on = document.payment.due_on
    if document.payment.paid or due_on is None:
        return {}
    first = next_action_on(due_on, (), 0, at.date())
    return {} if first is None else {"nextReminderOn": first.isoformat()}


def candidate_of(doc: Document) -> ReminderCandidate:
    settlement = settlement_of(doc)
    seller = doc["document"].get("seller") or {}
    overdue = doc.get("overdueSince")
    return ReminderCandidate(
        record_id=str(doc["_id"]),
        tenant=doc["tenant"],
        number=doc["number"],
        order_id=doc["orderId"],
        issued=doc.get("issuedAt") is not None,
        status=InvoicePaymentStatus(doc.get("paymentStatus") or settlement.status.value),
        due_on=due_on_of(doc),
        currency=settlement.currency,
        amount_due=settlement.amount_due,
        language=seller.get("language") or "en",
        locale=seller.get("locale") or "en_GB",
        seller=seller.get("legal_name") or "",
        buyer=(doc["document"].get("buyer") or {}).get("name") or "",
        overdue_since=None if overdue is None else date.fromisoformat(overdue),
        overdue_announced=bool(doc.get("overdueAnnounced")),
        site_code=doc.get("siteCode"),
        sent=int(doc.get("remindersSent") or 0),
        queued=int(doc.get("remindersQueued") or 0),
        emails={
            int(level): ReminderEmailState(state.get("emailedAt"), bool(state.get("pending")), state.get("error"))
            for level, state in (doc.get("reminderEmails") or {}).items()
        },
    )


class ReminderRepository:
    def __init__(self, db: AsyncDatabase[Document], sweep_id: str = SWEEP_ID) -> None:
        self.invoices = db.invoices
        self.sweeps = db.reminder_sweeps
        self.sweep_id = sweep_id  # a test's own, so its moved clock never moves the workers' sweep

    async def swept_through(self) -> date | None:
        doc = await self.sweeps.find_one({"_id": self.sweep_id})
        return None if doc is None else date.fromisoformat(doc["through"])

    async def mark_swept(self, day: date) -> None:
        # Only forward: a worker with a late clock never moves it back (ISO days compare as dates).
        await self.sweeps.update_one({"_id": self.sweep_id}, {"$max": {"through": day.isoformat()}}, upsert=True)

    async def unsettled(self) -> list[OpenAmount]:
        """What each unsettled invoice of every tenant leaves open: an equality on `settled` (its own index),
        only the four fields the gauge needs. It reads every open invoice, so it runs on a slow timer of its
        own (INVOICE_AMOUNT_OPEN_SECONDS), never in the reminder pass."""
        fields = {"paymentStatus": 1, "dueOn": 1, "amountDue": 1, "document.totals.currency": 1}
        return [
            OpenAmount(
                InvoicePaymentStatus(doc["paymentStatus"]),
                due_on_of(doc),
                doc["document"]["totals"]["currency"],
                Decimal(doc["amountDue"]),
            )
            async for doc in self.invoices.find({"settled": False, "issuedAt": {"$ne": None}}, fields)
        ]

    async def due_on(self, day: date) -> list[ReminderCandidate]:
        return [candidate_of(doc) async for doc in self.invoices.find({"nextReminderOn": day.isoformat()})]

    async def claim_overdue(self, record_id: str, since: date) -> bool:
        """The one atomic claim of an invoice's overdue announcement: true for one caller only."""
        written = await self.invoices.update_one(
            {"_id": record_id, "overdueSince": None}, {"$set": {"overdueSince": since.isoformat()}}
        )
        return written.modified_count == 1

    async def mark_overdue_announced(self, record_id: str) -> None:
        await self.invoices.update_one({"_id": record_id}, {"$set": {"overdueAnnounced": True}})

    async def claim_level(self, record_id: str, sent: int, level: int) -> bool:
        """The one atomic claim of a reminder level: true for one caller only, and only while no level at or
        above it was claimed."""
        written = await self.invoices.update_one(
            {"_id": record_id, "remindersSent": sent or None}, {"$set": {"remindersSent": level}}
        )
        return written.modified_count == 1

    async def mark_queued(self, record_id: str, level: int) -> None:
        await self.invoices.update_one({"_id": record_id}, {"$max": {"remindersQueued": level}})

    async def move_to(self, record_id: str, day: date | None) -> None:
        """Into the bucket of `day`, or out of every bucket."""
        update = {"$unset": {"nextReminderOn": ""}} if day is None else {"$set": {"nextReminderOn": day.isoformat()}}
        await self.invoices.update_one({"_id": record_id}, update)

    async def find(self, record_id: str) -> ReminderCandidate | None:
        doc = await self.invoices.find_one({"_id": record_id})
        return None if doc is None else candidate_of(doc)

    async def mark_reminder_email(self, record_id: str, level: int, state: ReminderEmailState) -> None:
        fields = {"emailedAt": state.emailed_at, "pending": state.pending, "error": state.error}
        await self.invoices.update_one({"_id": record_id}, {"$set": {f"reminderEmails.{level}": fields}})
