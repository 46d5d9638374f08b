"""One email flow for every document (streams/emailing.py): an invoice's and a credit note's email move the
same metrics (labelled by `document`) and announce their emailed / email_failed events alike, on the
first attempt and in the email agent. On the in-memory fakes (tests/memory/)."""

from typing import Any

import pytest
from prometheus_client import REGISTRY

from infra.mail import EmailNotSent, OutgoingEmail
from infra.settings import Settings
from schemas.events import DeadLetter, InvoiceEmailRequested
from streams.agents.emails import handle_email_request
from tests.memory import MemoryMailer
from tests.unit.agent_wiring import record
from tests.unit.test_agent_failures import dead_letters
from tests.unit.test_crediting import CreditWorld
from tests.unit.test_pipeline import NOW, TENANT

__all__ = ["dead_letters"]  # the fixture, used by name

DOCUMENTS = ["invoice", "credit_note"]
REFUSED = EmailNotSent("550 no such user", permanent=True)
NOT_TAKEN = EmailNotSent("421 try later", permanent=False)
FAST_RETRIES = Settings(email_retry_initial_seconds=0.01, email_retry_max_seconds=0.01)


class ScriptedMailer(MemoryMailer):
    """Fails the next sends with `refusals`, one each, then takes every email; keeps every attempt."""

    def __init__(self) -> None:
        super().__init__()
        self.refusals: list[EmailNotSent] = []
        self.attempts: list[OutgoingEmail] = []

    async def send(self, email: OutgoingEmail) -> None:
        self.attempts.append(email)
        if self.refusals:
            raise self.refusals.pop(0)
        await super().send(email)


class Counts:
    """The email counters of one document kind, read before, so a test asserts what it moved."""

    def __init__(self, document: str) -> None:
        self.document = document
        self.before = self.now()

    def now(self) -> dict[str, float]:
        def value(name: str, **labels: str) -> float:
            return REGISTRY.get_sample_value(name, {**labels, "document": self.document}) or 0.0

        return {
            "pending": value("invoice_emails_pending_total"),
            "retried": value("invoice_emails_retried_total"),
            "failed": value("invoice_emails_failed_total"),
            "sent first": value("invoice_emails_sent_total", attempt="first"),
            "sent queued": value("invoice_emails_sent_total", attempt="queued"),
        }

    def moved(self) -> dict[str, float]:
        return {name: count - self.before[name] for name, count in self.now().items() if count != self.before[name]}


def world_of() -> tuple[CreditWorld, ScriptedMailer]:
    mailer = ScriptedMailer()
    return CreditWorld(mailer=mailer), mailer


async def make(world: CreditWorld, mailer: ScriptedMailer, document: str, *refusals: EmailNotSent) -> None:
    """Makes the world's document of kind `document`, whose first email meets `refusals` (the invoice a
    credit note corrects is emailed without)."""
    if document == "invoice":
        await world.add_order("o-1")
        mailer.refusals = list(refusals)
        await world.invoice("o-1")
        return
    number = await world.invoiced("o-1")
    mailer.refusals = list(refusals)
    await world.credit("n1", "o-1", number, wholeInvoice=True)


async def stored_state(world: CreditWorld, document: str) -> Any:
    """The document's record (an InvoiceRecord or a CreditNoteRecord: the same email fields)."""
    if document == "invoice":
        return await world.invoices.find(TENANT, "o-1")
    return await world.credit_notes.find(TENANT, "n1")


def announced(world: CreditWorld, event_type: str) -> list[Any]:
    return [event for event in world.announced if event.type == event_type]


def queued(world: CreditWorld) -> list[InvoiceEmailRequested]:
    return world.queued + world.emails_queued  # the pipeline's queue and the credit-note maker's


def the_number(document: str, event: Any) -> str:
    return str(event.invoiceNumber if document == "invoice" else event.creditNoteNumber)


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_an_email_taken_at_once_counts_as_sent_first_and_is_announced(document: str) -> None:
    world, mailer = world_of()
    counts = Counts(document)
    await make(world, mailer, document)
    assert counts.moved() == {"sent first": 1}
    [event] = announced(world, f"{document}.emailed")
    assert event.emailedAt == NOW and the_number(document, event) == (await stored_state(world, document)).number


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_a_first_email_refused_for_good_counts_as_failed_and_is_announced(document: str) -> None:
    world, mailer = world_of()
    counts = Counts(document)
    await make(world, mailer, document, REFUSED)
    assert counts.moved() == {"failed": 1}
    [event] = announced(world, f"{document}.email_failed")
    assert (event.reason, event.retrying) == ("550 no such user", False)
    state = await stored_state(world, document)
    assert state.email_error == "550 no such user" and not state.email_pending and state.emailed_at is None
    assert queued(world) == [] and announced(world, f"{document}.emailed") == []


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_a_first_email_not_taken_is_queued_counted_as_pending_and_announced(document: str) -> None:
    world, mailer = world_of()
    counts = Counts(document)
    await make(world, mailer, document, NOT_TAKEN)
    assert counts.moved() == {"pending": 1}
    [event] = announced(world, f"{document}.email_failed")
    assert (event.reason, event.retrying) == ("421 try later", True)
    [request] = queued(world)
    assert request.creditNoteId == (None if document == "invoice" else "n1")
    state = await stored_state(world, document)
    assert state.email_pending and state.emailed_at is None


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_the_email_agent_retries_counts_and_announces_alike(
    document: str, dead_letters: list[DeadLetter]
) -> None:
    world, mailer = world_of()
    await make(world, mailer, document, NOT_TAKEN)
    [request] = queued(world)
    counts = Counts(document)
    mailer.refusals = [NOT_TAKEN]  # the agent's first attempt fails too; its retry is taken
    await handle_email_request(record(request.to_bytes()), world.deps().email, FAST_RETRIES, world.credit_deps())
    assert dead_letters == []
    assert counts.moved() == {"retried": 1, "sent queued": 1}
    [event] = announced(world, f"{document}.emailed")
    state = await stored_state(world, document)
    assert event.emailedAt == state.emailed_at == NOW and not state.email_pending
    # The first attempt, the agent's failed one and its retry: one message (the invoice credited has its own).
    attempts = [email for email in mailer.attempts if email.subject == mailer.attempts[-1].subject]
    assert len(attempts) == 3
    [message_id] = {email.message_id for email in attempts}
    assert message_id is not None and message_id.startswith("<invoice." if document == "invoice" else "<credit-note.")


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_the_email_agent_counts_and_announces_a_final_refusal_alike(
    document: str, dead_letters: list[DeadLetter]
) -> None:
    world, mailer = world_of()
    await make(world, mailer, document, NOT_TAKEN)
    [request] = queued(world)
    counts = Counts(document)
    mailer.refusals = [REFUSED]
    await handle_email_request(record(request.to_bytes()), world.deps().email, FAST_RETRIES, world.credit_deps())
    assert dead_letters == []
    assert counts.moved() == {"failed": 1}
    refused = [event for event in announced(world, f"{document}.email_failed") if not event.retrying]
    assert [event.reason for event in refused] == ["550 no such user"]
    state = await stored_state(world, document)
    assert state.email_error == "550 no such user" and not state.email_pending and state.emailed_at is None
