"""An invoice's settlement as its document keeps it, and the one conditional update that changes it.

Top-level fields of the invoice document (the reminders read them; the list filters by them):
`paymentStatus` (the STORED status: open | partially_paid | paid | credited; overdue is derived at read
time), `settled` (false while open or partially paid), `amountPaid`, `amountDue` (strings, as money
is stored elsewhere), `dueOn` (an ISO date string, so ranges compare as dates),
`payments` (each payment with its idempotency key) and `settlementVersion`.

Every change of these (a payment, a credit note) reads the document, decides with the domain
(invoicing/settlement.py), and writes conditionally on the version it read: of two concurrent payments
that together exceed what is due, the second finds the version moved, reads again and is refused.
Invoices stored before settlements were kept read with the figures their document implies.
"""

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from infra.db import Document
from invoicing.document import InvoiceDocument
from invoicing.money import ZERO
from invoicing.settlement import UNSETTLED, Payment, PaymentSource, Settlement, opening_settlement

ATTEMPTS = 20  # concurrent writers of one invoice's settlement: each retry follows another's success


class SettlementRaced(Exception):
    """Other writers kept changing the invoice's settlement; the caller may try again."""


def opening_fields(document: InvoiceDocument, recorded_at: datetime) -> Document:
    """The settlement fields of a new invoice."""
    settlement, payments = opening_settlement(document, recorded_at)
    due_on = document.payment.due_on
    return settlement_fields(settlement) | {
        "dueOn": None if due_on is None else due_on.isoformat(),
        "payments": [payment_fields(p) for p in payments],
        "settlementVersion": 0,
    }


def settlement_fields(settlement: Settlement) -> Document:
    """`settled` is false while open or partially paid, so "overdue" is an equality (tenant, settled)
    with the range on dueOn applied to what it found."""
    return {
        "settled": settlement.status not in UNSETTLED,
        "paymentStatus": settlement.status.value,
        "amountPaid": str(settlement.paid),
        "amountDue": str(settlement.amount_due),
    }


def payment_fields(payment: Payment) -> Document:
    return {
        "paymentId": payment.payment_id,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "date": payment.date.isoformat(),
        "method": payment.method,
        "reference": payment.reference,
        "recordedAt": payment.recorded_at,
        "source": payment.source.value,
        "idempotencyKey": payment.idempotency_key,
        "requestDigest": payment.request_digest,
    }


def payment_of(fields: Mapping[str, Any]) -> Payment:
    return Payment(
        payment_id=fields["paymentId"],
        amount=Decimal(fields["amount"]),
        currency=fields["currency"],
        date=date.fromisoformat(fields["date"]),
        method=fields["method"],
        reference=fields.get("reference"),
        recorded_at=fields["recordedAt"],
        source=PaymentSource(fields["source"]),
        idempotency_key=fields.get("idempotencyKey"),
        request_digest=fields.get("requestDigest"),
    )


def payments_of(doc: Document) -> tuple[Payment, ...]:
    return tuple(payment_of(fields) for fields in doc.get("payments") or ())


def settlement_of(doc: Document) -> Settlement:
    """The settlement a stored invoice document says: its gross, what its credit notes took back
    (`credit.gross`, written by infra/credit_notes.py) and what was paid."""
    totals = doc["document"]["totals"]
    gross = Decimal(str(totals["total"]))
    credited = Decimal(str((doc.get("credit") or {}).get("gross") or 0))
    if "amountPaid" in doc:
        paid = Decimal(doc["amountPaid"])
    else:  # stored before settlements were kept: paid in full when the document says so
        paid = gross if (doc["document"].get("payment") or {}).get("paid") else ZERO
    return Settlement(totals["currency"], gross, credited, paid)


def due_on_of(doc: Document) -> date | None:
    if doc.get("dueOn"):
        return date.fromisoformat(doc["dueOn"])
    due = (doc["document"].get("payment") or {}).get("due_on")
    return None if due is None else date.fromisoformat(str(due))


async def change_settlement(
    invoices: AsyncCollection[Document],
    query: Document,
    change: Callable[[Document], tuple[Document, Document] | None],
) -> Document | None:
    """Read the invoice `query` finds and write what `change` makes of it (a `$set` and an optional
    `$push`, or None: nothing to write), conditional on the settlement version read; again on a race.
    Returns the document read last (None when no invoice matched)."""
    number = query.get("number") or query.get("_id")
    for _ in range(ATTEMPTS):
        doc = await invoices.find_one(query)
        if doc is None:
            return None
        changed = change(doc)
        if changed is None:
            return doc
        fields, push = changed
        version = doc.get("settlementVersion")  # None (missing) in documents from before settlements
        if "dueOn" not in doc:  # such a document gets its due date with its first settlement write
            due_on = due_on_of(doc)
            fields = fields | {"dueOn": None if due_on is None else due_on.isoformat()}
        update: Document = {"$set": fields | {"settlementVersion": (version or 0) + 1}}
        if push:
            update["$push"] = push
        written = await invoices.update_one({"_id": doc["_id"], "settlementVersion": version}, update)
        if written.matched_count == 1:
            return doc
    raise SettlementRaced(f"the settlement of invoice {number} kept changing")
