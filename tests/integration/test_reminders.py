"""Overdue and reminders against the real store (FerretDB here, MongoDB in CI): an invoice made unpaid is in
the bucket of the day after its due date; two passes at once, with the clock moved, announce it overdue once
and hand reminder 1, then 2, to the email flow once each; a paid invoice is left alone. The claims are
conditional updates on the invoice, so this is what makes "once" true across workers."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.invoices import InvoiceRepository
from infra.reminders import ReminderRepository
from infra.tenant_settings import TenantSettingsRepository
from schemas.events import InvoiceEmailRequested
from schemas.public_events import PublicEventT
from schemas.settings import ReminderSettings
from streams.reminding import ReminderDeps, remind
from tests.integration.store_contracts import document

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
