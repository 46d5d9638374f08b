"""Overdue and reminders against the real store (FerretDB here, MongoDB in CI): an invoice made unpaid is in
the bucket of the day after its due date; two passes at once, with the clock moved, announce it overdue once
and hand reminder 1, then 2, to the email flow once each; a paid invoice is left alone. The claims are
conditional updates on the invoice, so this is what makes "once" true across workers."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from infra.invoices import InvoiceRepository
from infra.records import InvoiceRecord
from infra.reminders import ReminderRepository
from infra.tenant_settings import TenantSettingsRepository
from schemas.events import InvoiceEmailRequested
from schemas.public_events import PublicEventT
from schemas.settings import ReminderSettings
from streams.reminding import ReminderDeps, remind
from tests.factories import order_event
from tests.fakes import SmtpSink
from tests.integration.flows import invoice_events
from tests.integration.store_contracts import document
from tests.integration.test_email import mails_to
from tests.support import WorkerProcess, wait_for

pytestmark = pytest.mark.integration


async def test_overdue_then_reminder_1_then_2_once_each_with_two_passes(mongo_db: Any) -> None:
    from infra.db import ensure_indexes

    await ensure_indexes(mongo_db)
    tenant = f"rem{uuid.uuid4().hex[:8]}"
    invoices = InvoiceRepository(mongo_db)
    made = await invoices.allocate(
        tenant=tenant, order_id="o-1", job_id="j1", seq=1, number="R1", document=document(tenant, "o-1", "R1")
    )
    assert made is not None
    await invoices.mark_issued(made, f"{tenant}/R1.pdf")
    stored = await mongo_db.invoices.find_one({"_id": made.record_id})
    due_on = made.invoice_document().payment.due_on
    assert due_on is not None and stored["nextReminderOn"] == (due_on + timedelta(days=1)).isoformat()

    settings = TenantSettingsRepository(mongo_db)
    levels = {"levels": [{"daysAfterDue": 7}, {"daysAfterDue": 21, "fee": "5.00"}]}
    await settings.write(tenant, ReminderSettings.model_validate(levels))
    queued: list[InvoiceEmailRequested] = []
    announced: list[PublicEventT] = []

    async def queue(request: InvoiceEmailRequested) -> None:
        queued.append(request)

    async def announce(event: PublicEventT) -> None:
        announced.append(event)

    sweep = f"test-{tenant}"  # its own sweep: the moved clock never moves the running workers'

    async def two_passes(days_after_due: int) -> None:
        day = due_on + timedelta(days=days_after_due)
        now = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
        deps = [ReminderDeps(ReminderRepository(mongo_db, sweep), settings, queue, announce) for _ in range(2)]
        await asyncio.gather(*(remind(one, now) for one in deps))

    def mine() -> tuple[list[str], list[int | None]]:
        events = [str(event.type) for event in announced if event.tenant == tenant]
        return events, [request.reminderLevel for request in queued if request.tenant == tenant]

    await two_passes(0)
    assert mine() == ([], [])
    await two_passes(1)
    assert mine() == (["invoice.overdue"], [])
    await two_passes(6)
    assert mine() == (["invoice.overdue"], [])
    await two_passes(7)
    await two_passes(8)
    assert mine() == (["invoice.overdue"], [1])
    await two_passes(21)
    await two_passes(40)
    assert mine() == (["invoice.overdue"], [1, 2])
    stored = await mongo_db.invoices.find_one({"_id": made.record_id})
    assert stored["remindersSent"] == 2 and stored["remindersQueued"] == 2 and "nextReminderOn" not in stored


async def test_two_workers_with_a_moved_clock_announce_overdue_then_send_reminder_1_then_2_once_each(
    api: Any, worker: WorkerProcess, publish_orders: Any, stored_order: Any, smtp_sink: SmtpSink,
    service_env: dict[str, str], mongo_db: Any,
) -> None:  # fmt: skip
    """End to end: an unpaid invoice made by the session's worker; then, for each step, two workers of the
    same consumer group whose clocks are moved (INVOICE_CLOCK_OFFSET_SECONDS) to a day after the due date,
    restarted between steps as a deployment would be. Each step happens once: one overdue mark, one email
    per level, however many passes both workers run."""
    tenant = f"rw{uuid.uuid4().hex[:8]}"
    recipient = f"{tenant}@example.com"
    event = order_event(tenant, "o-1")
    event["order"]["customer"]["email"] = recipient
    levels = {"levels": [{"daysAfterDue": 7}, {"daysAfterDue": 21, "fee": "5.00"}]}
    response = await api.put(f"/invoice/{tenant}/settings/reminders", json=levels)
    assert response.status_code == 200, response.text
    results = await invoice_events(api, publish_orders, stored_order, tenant, event)
    number = results["o-1"]["invoiceNumber"]
    [issued_mail] = await mails_to(smtp_sink, recipient)
    invoice = (await api.get(f"/invoice/{tenant}/invoices/{number}")).json()
    due_on = date.fromisoformat(invoice["payment"]["dueOn"])
    assert invoice["paymentStatus"] == "open", invoice

    async def stored() -> dict[str, Any]:
        found: dict[str, Any] = await mongo_db.invoices.find_one({"tenant": tenant, "number": number})
        return found

    def reminder_subjects() -> list[str]:
        return [mail.message["Subject"] for mail in smtp_sink.mails_to(recipient) if mail is not issued_mail]

    async def two_workers_at(days_after_due: int, done: Callable[[], Awaitable[bool]], what: str) -> None:
        day = due_on + timedelta(days=days_after_due)
        offset = (datetime(day.year, day.month, day.day, 10, tzinfo=UTC) - datetime.now(UTC)).total_seconds()
        env = service_env | {"INVOICE_CLOCK_OFFSET_SECONDS": str(offset), "INVOICE_REMINDER_PASS_SECONDS": "1"}
        workers = [WorkerProcess(env, f"test-reminder-worker-{days_after_due}-{i}-{tenant}") for i in range(2)]
        try:
            await asyncio.gather(*(one.start() for one in workers))

            async def reached() -> bool | None:
                return await done() or None

            await wait_for(reached, timeout=90, what=what)
            # Several more passes of both workers: none may do the step again.
            passes = (await stored()).get("remindersSent"), len(reminder_subjects())
            await asyncio.sleep(3)  # three pass intervals: what must NOT happen has no event to poll for
            assert ((await stored()).get("remindersSent"), len(reminder_subjects())) == passes
        finally:
            for one in workers:
                one.stop()

    async def overdue() -> bool:
        return (await stored()).get("overdueSince") == (due_on + timedelta(days=1)).isoformat()

    async def reminded(level: int) -> bool:
        return (await stored()).get("remindersSent") == level and len(reminder_subjects()) == level

    await two_workers_at(1, overdue, "the invoice marked overdue")
    assert reminder_subjects() == []
    await two_workers_at(7, lambda: reminded(1), "reminder 1 sent")
    await two_workers_at(21, lambda: reminded(2), "reminder 2 sent")
    assert [subject.split(":")[0] for subject in reminder_subjects()] == ["Payment reminder 1", "Payment reminder 2"]
    assert all(number in subject for subject in reminder_subjects())
    assert (await api.get(f"/invoice/{tenant}/invoices/{number}")).json()["paymentStatus"] == "open"


async def test_the_amount_open_query_reads_every_issued_unsettled_invoice_and_only_those(
    mongo_db: Any, run_id: str
) -> None:
    """On the real store, in a database of its own: issued and open, issued and partly paid, issued and paid,
    and one still being made (no issuedAt); the gauge's query returns the first two with what they leave open."""
    from infra.db import ensure_indexes
    from tests.integration.test_store_contracts_payments import payment

    db = mongo_db.client[f"open-amounts-{run_id}"]
    await ensure_indexes(db)
    invoices = InvoiceRepository(db)
    made: dict[str, InvoiceRecord] = {}
    for seq, order_id in enumerate(("open", "partly", "paid", "making"), start=1):
        number = f"A{seq}"
        record = await invoices.allocate(
            tenant="shop",
            order_id=order_id,
            job_id="j",
            seq=seq,
            number=number,
            document=document("shop", order_id, number),
        )
        assert record is not None
        made[order_id] = record
        if order_id != "making":
            await invoices.mark_issued(record, f"shop/{number}.pdf")
    await invoices.record_payment(made["partly"], payment("10.00"))
    gross = made["paid"].settled.gross
    await invoices.record_payment(made["paid"], payment(str(gross)))

    found = sorted(await ReminderRepository(db).unsettled(), key=lambda amount: amount.amount_due)
    assert [(amount.status.value, amount.currency, amount.amount_due) for amount in found] == [
        ("partially_paid", "EUR", gross - Decimal("10.00")),
        ("open", "EUR", gross),
    ]
    await mongo_db.client.drop_database(f"open-amounts-{run_id}")
