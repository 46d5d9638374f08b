"""A reminder through the one email flow (streams/emailing.py via the email agent), on the fakes: the
invoice's PDF with the level's words in the invoice's language, a Message-ID of its own per level, sent once
however often its request comes, retried when the mail server is away, and not at all once paid."""

import asyncio
from dataclasses import replace
from datetime import date
from decimal import Decimal

from prometheus_client import REGISTRY

from infra.mail import OutgoingEmail
from infra.reminders import ReminderCandidate
from invoicing.settlement import InvoicePaymentStatus
from schemas.settings import ReminderSettings
from streams.agents.emails import ReminderEmailDeps, handle_email_request
from streams.reminding import reminder_request
from tests.memory.reminders import MemoryReminders
from tests.unit.agent_wiring import record
from tests.unit.test_crediting import CreditWorld
from tests.unit.test_email_flow import FAST_RETRIES, NOT_TAKEN, ScriptedMailer
from tests.unit.test_pipeline import TENANT


async def world_with_invoice(
    mailer: ScriptedMailer | None = None,
) -> tuple[CreditWorld, ScriptedMailer, MemoryReminders, ReminderCandidate]:
    mailer = mailer or ScriptedMailer()
    world = CreditWorld(mailer=mailer)
    await world.invoiced("o-1")
    invoice_record = await world.invoices.find(TENANT, "o-1")
    assert invoice_record is not None
    levels = {"levels": [{"daysAfterDue": 7}, {"daysAfterDue": 21, "fee": "5.00"}]}
    await world.tenant_settings.write(TENANT, ReminderSettings.model_validate(levels))
    invoice = ReminderCandidate(
        record_id=invoice_record.record_id,
        tenant=TENANT,
        number=invoice_record.number,
        order_id="o-1",
        issued=True,
        status=InvoicePaymentStatus.OPEN,
        due_on=date(2026, 11, 30),
        currency="EUR",
        amount_due=Decimal("119.00"),
        language="fr",
        locale="fr_FR",
        seller="Boutique SARL",
        buyer="Anne",
        overdue_since=date(2026, 12, 1),
        overdue_announced=True,
        sent=2,
        queued=2,
    )
    reminders = MemoryReminders()
    reminders.add(invoice, date(2027, 1, 1))
    mailer.attempts.clear()
    mailer.sent.clear()
    return world, mailer, reminders, invoice


def sent_by_level(level: str) -> float:
    return REGISTRY.get_sample_value("invoice_reminders_sent_total", {"level": level}) or 0.0


async def send(world: CreditWorld, reminders: MemoryReminders, invoice: ReminderCandidate, level: int) -> None:
    request = reminder_request(invoice, level)
    deps = ReminderEmailDeps(reminders, world.tenant_settings)
    await handle_email_request(record(request.to_bytes()), world.deps().email, FAST_RETRIES, None, deps)


async def test_each_level_is_emailed_once_in_the_invoices_language() -> None:
    world, mailer, reminders, invoice = await world_with_invoice()
    before = sent_by_level("2")
    await send(world, reminders, invoice, 2)
    await send(world, reminders, invoice, 2)  # a redelivered request: nothing more
    [mail] = mailer.attempts
    assert mail.subject == f"Rappel de paiement 2 : facture {invoice.number} de Boutique SARL"
    assert "119,00\xa0€" in mail.body and "30 novembre 2026" in mail.body and "5,00\xa0€" in mail.body
    assert mail.attachment and mail.message_id and ".reminder-2." in mail.message_id
    assert sent_by_level("2") - before == 1
    await send(world, reminders, invoice, 1)
    assert len(mailer.attempts) == 2 and mailer.attempts[1].message_id != mail.message_id


async def test_a_reminder_not_taken_is_retried_until_it_is() -> None:
    world, mailer, reminders, invoice = await world_with_invoice()
    mailer.refusals = [NOT_TAKEN]
    await send(world, reminders, invoice, 1)
    assert len(mailer.attempts) == 2 and len(mailer.sent) == 1
    assert mailer.attempts[0].message_id == mailer.attempts[1].message_id  # the same message, retried
    stored = await reminders.find(invoice.record_id)
    assert stored is not None and stored.emails[1].emailed_at is not None


async def test_no_reminder_once_paid() -> None:
    world, mailer, reminders, invoice = await world_with_invoice()
    reminders.invoices[invoice.record_id] = replace(invoice, status=InvoicePaymentStatus.PAID)
    await send(world, reminders, invoice, 1)
    assert mailer.attempts == []


class SlowMailer(ScriptedMailer):
    """Takes a moment per email, as a real mail server does, so concurrent sends overlap."""

    async def send(self, email: OutgoingEmail) -> None:
        await asyncio.sleep(0.01)
        await super().send(email)


async def test_two_copies_of_a_request_handled_at_once_by_two_actors_send_one_email() -> None:
    """The reminder pass of two workers may queue a level twice (one saw it claimed but not yet queued),
    and the email agent's actors take both copies at the same moment: the customer still gets one email."""
    world, mailer, reminders, invoice = await world_with_invoice(SlowMailer())
    worker = world.resources(world.deps().announce)
    deps = ReminderEmailDeps(reminders, world.tenant_settings)
    copy = record(reminder_request(invoice, 1).to_bytes())
    # Each actor of the worker's email agent has its own EmailDeps, as in streams/agents/emails.py.
    actors = [handle_email_request(copy, worker.email_deps(), FAST_RETRIES, None, deps) for _ in range(2)]
    await asyncio.gather(*actors)
    assert len(mailer.attempts) == 1
