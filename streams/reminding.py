"""The overdue and reminder pass: every few seconds on every worker (streams/agents/reminders.py), each
step exactly once however many workers run and whenever one crashes.

The pass reads the day buckets from the day last swept through to today (infra/reminders.py), and for
each invoice found:
- settled (paid or credited): out of every bucket; nothing more is sent.
- overdue and not yet announced: one conditional update claims the announcement (`overdueSince`), the
  claimer announces `invoice.overdue` and records that it did; an invoice claimed but not recorded as
  announced (its claimer crashed) is announced again, under the same CloudEvents id (deterministic).
- a level due: one conditional update claims it (`remindersSent` from the level read to the new one),
  then the reminder is handed to the email flow (topic invoice-emails: sent once, retried until the mail
  server takes it, streams/emailing.py) and recorded as queued (`remindersQueued`). A level claimed but
  not queued (its claimer crashed) is queued again: the email flow sends it once.
- then into the bucket of its next step, only once every step of today is done (so a crash leaves it
  where the next pass looks).
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from infra.metrics import AMOUNT_OPEN, OVERDUE_ANNOUNCED
from infra.ports import ReminderStore, TenantSettingsStore
from infra.reminders import ReminderCandidate
from invoicing.reminders import Level, Wording, is_overdue, level_due, next_action_on, overdue_on
from invoicing.settlement import open_amounts
from schemas.events import EmailReason, InvoiceEmailRequested
from schemas.public_events import InvoiceOverdue
from schemas.settings import ReminderSettings
from streams.announcements import Announce

log = logging.getLogger(__name__)

FIRST_SWEEP_DAYS = 60  # the first pass ever looks this far back (invoices made before reminders existed)


@dataclass(frozen=True)
class ReminderDeps:
    reminders: ReminderStore
    tenant_settings: TenantSettingsStore
    queue_email: Callable[[InvoiceEmailRequested], Awaitable[None]]
    announce: Announce


def levels_of(settings: ReminderSettings | None) -> tuple[Level, ...]:
    if settings is None:
        return ()
    return tuple(
        Level(
            level.daysAfterDue,
            None if level.fee is None else Decimal(level.fee),
            {language: Wording(words.subject, words.body) for language, words in level.wording.items()},
        )
        for level in settings.levels
    )


def overdue_event(invoice: ReminderCandidate, since: date) -> InvoiceOverdue:
    if invoice.due_on is None:
        raise ValueError(f"invoice {invoice.number} has no due date")
    return InvoiceOverdue(
        tenant=invoice.tenant,
        orderId=invoice.order_id,
        invoiceNumber=invoice.number,
        currency=invoice.currency,
        amountDue=invoice.amount_due,
        dueOn=invoice.due_on,
        overdueSince=since,
    )


def reminder_request(invoice: ReminderCandidate, level: int) -> InvoiceEmailRequested:
    return InvoiceEmailRequested(
        tenant=invoice.tenant,
        orderId=invoice.order_id,
        invoiceNumber=invoice.number,
        reason=EmailReason.REMINDER,
        reminderLevel=level,
    )


async def remind(deps: ReminderDeps, now: datetime) -> int:
    """One pass at `now`; returns how many invoices it looked at."""
    today = now.date()
    start = await deps.reminders.swept_through() or today - timedelta(days=FIRST_SWEEP_DAYS)
    levels: dict[tuple[str, str | None], tuple[Level, ...]] = {}
    seen = 0
    day = start
    while day <= today:
        for invoice in await deps.reminders.due_on(day):
            seen += 1
            issuer = (invoice.tenant, invoice.site_code)
            if issuer not in levels:
                # The site's own reminder levels where it has them, else the tenant's (invoicing/sites.py).
                in_force = await deps.tenant_settings.read_all(invoice.tenant, invoice.site_code)
                levels[issuer] = levels_of(in_force.get(ReminderSettings))
            await step(deps, invoice, levels[issuer], today)
        day += timedelta(days=1)
    await deps.reminders.mark_swept(today)
    return seen


async def refresh_amount_open(reminders: ReminderStore, now: datetime) -> None:
    """The gauge of what every unsettled invoice leaves open, by its status as shown at `now` (overdue
    derived) and currency. Set whole each time: a status or currency with nothing open any more is dropped."""
    totals = open_amounts(await reminders.unsettled(), now)
    AMOUNT_OPEN.clear()
    for (status, currency), amount in totals.items():
        AMOUNT_OPEN.labels(status.value, currency).set(float(amount))  # a metric sample is a float by nature


async def step(deps: ReminderDeps, invoice: ReminderCandidate, levels: tuple[Level, ...], today: date) -> None:
    """What is due today for one invoice of a bucket, each part claimed before it is done."""
    store = deps.reminders
    if invoice.settled or invoice.due_on is None:
        await store.move_to(invoice.record_id, None)
        return
    if not invoice.issued:  # numbered, not yet stored: look again tomorrow
        await store.move_to(invoice.record_id, today + timedelta(days=1))
        return
    due_on = invoice.due_on
    if not is_overdue(due_on, today):
        await store.move_to(invoice.record_id, overdue_on(due_on))
        return
    since = invoice.overdue_since
    if since is None:
        since = overdue_on(due_on)
        if await store.claim_overdue(invoice.record_id, since):
            await announce_overdue(deps, invoice, since)
    elif not invoice.overdue_announced:
        await announce_overdue(deps, invoice, since)
    sent = invoice.sent
    level = level_due(due_on, levels, sent, today)
    if level is not None and await store.claim_level(invoice.record_id, sent, level):
        sent = level
    if sent > invoice.queued:  # claimed here, or by a pass that died before handing it over
        await deps.queue_email(reminder_request(invoice, sent))
        await store.mark_queued(invoice.record_id, sent)
        log.info("reminder %d queued", sent, extra={"tenant": invoice.tenant, "number": invoice.number})
    await store.move_to(invoice.record_id, next_action_on(due_on, levels, max(sent, invoice.sent), today))


async def announce_overdue(deps: ReminderDeps, invoice: ReminderCandidate, since: date) -> None:
    await deps.announce(overdue_event(invoice, since))
    await deps.reminders.mark_overdue_announced(invoice.record_id)
    OVERDUE_ANNOUNCED.inc()
