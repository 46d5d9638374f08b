"""The overdue/reminder pass (streams/reminding.py) on the fakes: overdue announced once, each level handed to
the email flow once with two passes running at once, a crash after a claim not losing its step, and nothing
more once the invoice is paid or credited. Time is moved by the `now` each pass is given."""

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from prometheus_client import REGISTRY

from infra.reminders import ReminderCandidate
from invoicing.settlement import InvoicePaymentStatus
from schemas.events import EmailReason, InvoiceEmailRequested
from schemas.public_events import InvoiceOverdue, PublicEventT
from schemas.settings import ReminderSettings
from streams.reminding import ReminderDeps, refresh_amount_open, remind
from tests.memory.reminders import MemoryReminders
from tests.memory.settings import MemoryTenantSettings

DUE = date(2026, 11, 30)
INVOICE = ReminderCandidate(
    record_id="shop:o-1:1",
    tenant="shop",
    number="INV-000001",
    order_id="o-1",
    issued=True,
    status=InvoicePaymentStatus.OPEN,
    due_on=DUE,
    currency="EUR",
    amount_due=Decimal("119.00"),
    language="de",
    locale="de_DE",
    seller="Müller GmbH",
    buyer="Anna",
    overdue_since=None,
    overdue_announced=False,
    sent=0,
    queued=0,
)


@dataclass
class World:
    reminders: MemoryReminders = field(default_factory=MemoryReminders)
    settings: MemoryTenantSettings = field(default_factory=MemoryTenantSettings)
    queued: list[InvoiceEmailRequested] = field(default_factory=list)
    announced: list[PublicEventT] = field(default_factory=list)

    def deps(self) -> ReminderDeps:
        async def queue(request: InvoiceEmailRequested) -> None:
            self.queued.append(request)

        async def announce(event: PublicEventT) -> None:
            self.announced.append(event)

        return ReminderDeps(self.reminders, self.settings, queue, announce)

    async def passes(self, day: date, workers: int = 2) -> None:
        now = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
        await asyncio.gather(*(remind(self.deps(), now) for _ in range(workers)))

    def levels(self) -> list[int | None]:
        return [request.reminderLevel for request in self.queued]


@pytest.fixture
async def world() -> World:
    w = World()
    levels = {"levels": [{"daysAfterDue": 7}, {"daysAfterDue": 21}]}
    await w.settings.write("shop", ReminderSettings.model_validate(levels))
    w.reminders.add(INVOICE, date(2026, 12, 1))
    return w


async def test_overdue_then_reminder_1_then_2_each_once_with_two_passes(world: World) -> None:
    await world.passes(date(2026, 11, 30))
    assert world.announced == [] and world.queued == []
    await world.passes(date(2026, 12, 1))
    assert [type(event) for event in world.announced] == [InvoiceOverdue]
    overdue = world.announced[0]
    assert isinstance(overdue, InvoiceOverdue) and overdue.overdueSince == date(2026, 12, 1)
    assert world.reminders.next_on[INVOICE.record_id] == date(2026, 12, 7)
    for day in (date(2026, 12, 2), date(2026, 12, 6)):
        await world.passes(day)
    assert world.queued == []
    await world.passes(date(2026, 12, 7))
    await world.passes(date(2026, 12, 8))
    assert world.levels() == [1]
    assert world.queued[0].reason is EmailReason.REMINDER and world.queued[0].invoiceNumber == "INV-000001"
    await world.passes(date(2026, 12, 21))
    await world.passes(date(2027, 1, 30))
    assert world.levels() == [1, 2]
    assert len(world.announced) == 1
    assert INVOICE.record_id not in world.reminders.next_on  # nothing left to do


async def test_a_worker_away_for_weeks_sends_the_latest_level_not_a_burst(world: World) -> None:
    await world.passes(date(2026, 12, 25))
    assert len(world.announced) == 1
    assert world.levels() == [2]


async def test_a_crash_after_the_claim_is_finished_by_the_next_pass(world: World) -> None:
    # A pass claimed overdue and level 1, then died before announcing and before handing the email over.
    store = world.reminders
    store.invoices[INVOICE.record_id] = replace(INVOICE, overdue_since=date(2026, 12, 1), sent=1)
    store.next_on[INVOICE.record_id] = date(2026, 12, 7)
    store.swept = date(2026, 12, 7)
    await world.passes(date(2026, 12, 7))
    assert [event.type for event in world.announced] == ["invoice.overdue"]
    assert world.levels() == [1]


@pytest.mark.parametrize("status", [InvoicePaymentStatus.PAID, InvoicePaymentStatus.CREDITED])
async def test_paid_or_credited_stops_the_reminders(world: World, status: InvoicePaymentStatus) -> None:
    await world.passes(date(2026, 12, 7))
    assert world.levels() == [1]
    world.reminders.settle(INVOICE.record_id, status)
    await world.passes(date(2026, 12, 21))
    await world.passes(date(2027, 2, 1))
    assert world.levels() == [1]
    assert INVOICE.record_id not in world.reminders.next_on


async def test_without_reminder_settings_overdue_is_announced_and_nothing_sent() -> None:
    world = World()
    world.reminders.add(INVOICE, date(2026, 12, 1))
    await world.passes(date(2026, 12, 30))
    assert len(world.announced) == 1 and world.queued == []


async def test_a_paid_invoice_is_never_announced_overdue(world: World) -> None:
    world.reminders.settle(INVOICE.record_id, InvoicePaymentStatus.PAID)
    await world.passes(date(2026, 12, 25))
    assert world.announced == [] and world.queued == []


async def test_the_amount_open_gauge_is_every_unsettled_invoice_by_shown_status_and_currency() -> None:
    reminders = MemoryReminders()
    not_due = replace(INVOICE, record_id="shop:o-2:1", due_on=date(2026, 12, 31), amount_due=Decimal("10.00"))
    partly = replace(INVOICE, record_id="shop:o-3:1", status=InvoicePaymentStatus.PARTIALLY_PAID, due_on=None)
    in_chf = replace(INVOICE, record_id="shop:o-4:1", currency="CHF", amount_due=Decimal("5.05"))
    paid = replace(INVOICE, record_id="shop:o-5:1", status=InvoicePaymentStatus.PAID)
    being_made = replace(INVOICE, record_id="shop:o-6:1", issued=False)
    for invoice in (INVOICE, not_due, partly, in_chf, paid, being_made):
        reminders.add(invoice, DUE)
    await refresh_amount_open(reminders, datetime(2026, 12, 5, 9, tzinfo=UTC))

    def sample(status: str, currency: str) -> float | None:
        return REGISTRY.get_sample_value("invoice_amount_open", {"status": status, "currency": currency})

    assert sample("overdue", "EUR") == 119.00 and sample("overdue", "CHF") == 5.05
    assert sample("open", "EUR") == 10.00 and sample("partially_paid", "EUR") == 119.00
    assert sample("paid", "EUR") is None

    reminders.settle(in_chf.record_id, InvoicePaymentStatus.PAID)
    await refresh_amount_open(reminders, datetime(2026, 12, 5, 9, tzinfo=UTC))
    assert sample("overdue", "CHF") is None  # nothing open in CHF any more: the series is gone, not stale
