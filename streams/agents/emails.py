"""Agent "emails": sends the emails of invoices and credit notes whose first send failed, and those a client
asked for again (streams/emailing.py: one flow for both).

Each request is retried with exponential backoff until the mail server takes it. Its offset is
committed only once the agent is done with it, so a worker that stops or crashes meanwhile leaves it on
the topic for the next worker: the retry outlives restarts. A final refusal (a 5xx answer to this
sender, recipient or content) is recorded on the document and ends the retries, so one bad address never
holds up the emails behind it. A defect (neither the mail server nor a dependency being away) follows
the agents' policy (streams/failures.py): the request is dead-lettered with the reason, never dropped.
"""

import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

import faust
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential

from infra.logs import log_context
from infra.mail import EmailNotSent
from infra.metrics import EMAILS_RETRIED, EmailedKind
from infra.ports import InvoiceStore, ReminderStore, TenantSettingsStore
from infra.settings import Settings
from invoicing.reminders import Level
from schemas.events import EmailReason, InvoiceEmailRequested
from schemas.settings import ReminderSettings
from streams.app import Topics
from streams.crediting import CreditDeps
from streams.email_documents import CreditNoteEmail, InvoiceEmail
from streams.emailing import EmailDeps, send_requested
from streams.failures import is_transient, parse_or_dead_letter, run_step, send_to_dead_letters
from streams.recorded import UNRECORDED, acts_on_recorded, unrecorded_email_request
from streams.reminder_email import ReminderEmail
from streams.reminding import levels_of
from streams.resources import ResourcesProvider

log = logging.getLogger(__name__)


def worth_retrying(error: BaseException) -> bool:
    return (isinstance(error, EmailNotSent) and not error.permanent) or is_transient(error)


def log_retry(kind: EmailedKind, state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    words = kind.replace("_", " ")
    log.warning("%s email not sent (attempt %d), next attempt in %.1f s: %s", words, state.attempt_number, wait, error)
    EMAILS_RETRIED.labels(kind).inc()


def retrying_email(settings: Settings, kind: EmailedKind) -> AsyncRetrying:
    """Without a limit: the mail server comes back, or an operator fixes the settings and restarts."""
    return AsyncRetrying(
        retry=retry_if_exception(worth_retrying),
        wait=wait_exponential(multiplier=settings.email_retry_initial_seconds, max=settings.email_retry_max_seconds),
        before_sleep=partial(log_retry, kind),
        reraise=True,
    )


@dataclass(frozen=True)
class ReminderEmailDeps:
    reminders: ReminderStore
    tenant_settings: TenantSettingsStore


def register(app: faust.App, topics: Topics, resources: ResourcesProvider, settings: Settings) -> None:
    @app.agent(topics.invoice_emails.channel, name=f"{__name__}.email_invoices", concurrency=settings.email_concurrency)
    async def email_invoices(stream: Any) -> None:
        opened = await resources()
        deps = opened.email_deps()
        credit_deps = opened.credit_deps(topics.refunds.publish, topics.invoice_emails.publish)
        reminder_deps = ReminderEmailDeps(opened.reminders, opened.tenant_settings)
        async for event in stream.events():
            await handle_email_request(event, deps, opened.settings, credit_deps, reminder_deps)


async def handle_email_request(
    event: Any,
    deps: EmailDeps,
    settings: Settings,
    credit_deps: CreditDeps | None = None,
    reminder_deps: ReminderEmailDeps | None = None,
) -> None:
    """One request of the topic: sent, recorded as refused, or dead-lettered with its reason; never dropped.
    A request with `creditNoteId` is the credit note's email (`credit_deps`), else the invoice's."""
    request = await parse_or_dead_letter(event, InvoiceEmailRequested.model_validate_json, "invoice email request")
    if request is None:
        return
    check = partial(unrecorded_email_request, deps.invoices, request)
    if not await acts_on_recorded(event, f"email request of invoice {request.invoiceNumber}", check):
        return
    async with deps.sending.of(request.tenant, request.invoiceNumber):
        await send_request(event, request, deps, settings, credit_deps, reminder_deps)


async def send_request(
    event: Any,
    request: InvoiceEmailRequested,
    deps: EmailDeps,
    settings: Settings,
    credit_deps: CreditDeps | None,
    reminder_deps: ReminderEmailDeps | None,
) -> None:
    """The request's document, read now (under the invoice's lock), emailed as its kind says."""
    if request.creditNoteId is not None:
        if credit_deps is None:
            raise ValueError("a credit-note email request needs the credit-note ports")
        with log_context(tenant=request.tenant, order=request.orderId, credit_note=request.creditNoteId):
            await run_step(
                event,
                f"emailing credit note {request.creditNoteId} of tenant {request.tenant}",
                partial(send_requested_credit_note, event, request, credit_deps, settings),
            )
        return
    if request.reason is EmailReason.REMINDER:
        if reminder_deps is None:
            raise ValueError("a reminder email request needs the reminder ports")
        with log_context(tenant=request.tenant, order=request.orderId, number=request.invoiceNumber):
            await run_step(
                event,
                f"emailing reminder {request.reminderLevel} of invoice {request.invoiceNumber} "
                f"of tenant {request.tenant}",
                partial(send_requested_reminder, event, request, deps, reminder_deps, settings),
            )
        return
    with log_context(tenant=request.tenant, order=request.orderId, number=request.invoiceNumber):
        await run_step(
            event,
            f"emailing invoice {request.invoiceNumber} of tenant {request.tenant}",
            partial(send_requested_email, event, request, deps, settings),
        )


async def send_requested_email(event: Any, request: InvoiceEmailRequested, deps: EmailDeps, settings: Settings) -> None:
    # By number: the email may be of an earlier invoice of an order that was invoiced again since.
    record = await deps.invoices.find_by_number(request.tenant, request.invoiceNumber)
    if record is None or record.order_id != request.orderId or not record.issued:
        await send_to_dead_letters(
            event,
            f"no issued invoice {request.invoiceNumber} for order {request.orderId} of tenant {request.tenant}",
            UNRECORDED,
        )
        return
    document = InvoiceEmail(record, deps.invoices)
    await send_requested(document, deps, retrying_email(settings, document.kind), request.reason is EmailReason.RESEND)
    await finish_email_request(deps.invoices, request)


async def send_requested_reminder(
    event: Any, request: InvoiceEmailRequested, deps: EmailDeps, reminder_deps: ReminderEmailDeps, settings: Settings
) -> None:
    """A reminder level's email: sent once (its state per level on the invoice), never once the invoice is
    paid or credited (read again here, right before the send)."""
    record = await deps.invoices.find_by_number(request.tenant, request.invoiceNumber)
    invoice = None if record is None else await reminder_deps.reminders.find(record.record_id)
    if record is None or invoice is None or record.order_id != request.orderId or not record.issued:
        await send_to_dead_letters(
            event, f"no issued invoice {request.invoiceNumber} of tenant {request.tenant} to remind of", UNRECORDED
        )
        return
    if invoice.settled:
        log.info("reminder %s not sent: the invoice is %s", request.reminderLevel, invoice.status.value)
        return
    levels = levels_of(await reminder_deps.tenant_settings.read(request.tenant, ReminderSettings))
    number = request.reminderLevel or 1
    level = levels[number - 1] if number <= len(levels) else Level(0)  # levels removed since: default words
    document = ReminderEmail(record, invoice, number, level, reminder_deps.reminders)
    await send_requested(document, deps, retrying_email(settings, document.kind), resend=False)


async def send_requested_credit_note(
    event: Any, request: InvoiceEmailRequested, deps: CreditDeps, settings: Settings
) -> None:
    if request.creditNoteId is None:  # routed here only for a credit note's email
        raise ValueError("a credit-note email request without a creditNoteId")
    note = await deps.credit_notes.find(request.tenant, request.creditNoteId)
    if note is None or not note.stored:
        await send_to_dead_letters(
            event, f"no stored credit note {request.creditNoteId} of tenant {request.tenant}", UNRECORDED
        )
        return
    document = CreditNoteEmail(note, deps.credit_notes)
    resend = request.reason is EmailReason.RESEND
    await send_requested(document, deps.email, retrying_email(settings, document.kind), resend)
    await finish_email_request(deps.invoices, request)


async def finish_email_request(invoices: InvoiceStore, request: InvoiceEmailRequested) -> None:
    """A resend is done once sent (or refused for good): a later copy of its record sends nothing."""
    if request.reason is EmailReason.RESEND and request.requestId is not None:
        await invoices.finish_email_request(request.tenant, request.requestId)
