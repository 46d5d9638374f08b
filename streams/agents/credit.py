"""Agent "credit": makes the credit notes asked for through the API; agent "refunds": retries the
refunds of credit notes that the gateway did not confirm, with backoff, until it answers.

Credit-note requests are keyed by tenant:orderId, so one invoice's credit notes are made one after the
other; the over-credit check holds without that too (`CreditNoteStore.allocate`). A refund request's
offset is committed only once the gateway answered, so the retry outlives a worker restart.
"""

import logging
from functools import partial
from typing import Any

import faust
from tenacity import AsyncRetrying, retry_if_result, wait_exponential

from infra.records import RefundState, RefundStatus
from infra.settings import Settings
from schemas.api import CreditNoteStatus
from schemas.events import CreditNoteRequested, RefundRequested
from streams.app import Topics
from streams.crediting import CreditDeps, make_credit_note, try_refund
from streams.failures import Defect, parse_or_dead_letter, run_step, send_to_dead_letters
from streams.recorded import UNRECORDED, acts_on_recorded, unrecorded_credit_note
from streams.resources import ResourcesProvider

log = logging.getLogger(__name__)


def register(app: faust.App, topics: Topics, resources: ResourcesProvider, settings: Settings) -> None:
    @app.agent(topics.credit_note_requests.channel, name=f"{__name__}.make_credit_notes")
    async def make_credit_notes(stream: Any) -> None:
        opened = await resources()
        await make_credit_notes_of(stream, opened.credit_deps(topics.refunds.publish, topics.invoice_emails.publish))

    @app.agent(topics.refunds.channel, name=f"{__name__}.retry_refunds")
    async def retry_refunds(stream: Any) -> None:
        opened = await resources()
        deps = opened.credit_deps(topics.refunds.publish, topics.invoice_emails.publish)
        await retry_refunds_of(stream, deps, opened.settings)


async def make_credit_notes_of(stream: Any, deps: CreditDeps) -> None:
    async for event in stream.events():
        request = await parse_or_dead_letter(event, CreditNoteRequested.model_validate_json, "credit-note request")
        if request is None:
            continue
        check = partial(unrecorded_credit_note, deps.credit_notes, request)
        if not await acts_on_recorded(event, f"credit-note request {request.creditNoteId}", check):
            continue
        outcome = await run_step(
            event, f"making credit note {request.creditNoteId}", partial(make_credit_note, request, deps)
        )
        if isinstance(outcome, Defect):
            # The request is dead-lettered; it also fails visibly, so a client polling it learns of it. A step
            # of its own: a defect here is dead-lettered too, never out of the agent.
            fail = partial(
                deps.credit_notes.finish_request,
                request.tenant,
                request.creditNoteId,
                CreditNoteStatus.FAILED,
                f"Internal error while making the credit note (reference {outcome.reference})",
            )
            await run_step(event, f"failing credit note request {request.creditNoteId}", fail)


def retrying_refund(settings: Settings) -> AsyncRetrying:
    """Without a limit, like emails: the gateway comes back, or an operator fixes the settings."""
    return AsyncRetrying(
        retry=retry_if_result(lambda refund: refund.status is RefundStatus.PENDING),
        wait=wait_exponential(multiplier=settings.refund_retry_initial_seconds, max=settings.refund_retry_max_seconds),
    )


async def retry_refund(event: Any, request: RefundRequested, deps: CreditDeps, settings: Settings) -> None:
    note = await deps.credit_notes.find(request.tenant, request.creditNoteId)
    if note is None:
        await send_to_dead_letters(
            event, f"no credit note {request.creditNoteId} of tenant {request.tenant}", UNRECORDED
        )
        return
    if note.refund.status is not RefundStatus.PENDING:
        return  # refunded (or refused) meanwhile
    refund: RefundState | None = None
    async for attempt in retrying_refund(settings):
        with attempt:
            note = await deps.credit_notes.find(request.tenant, request.creditNoteId) or note
            refund = await try_refund(note, deps)
        if attempt.retry_state.outcome is not None and not attempt.retry_state.outcome.failed:
            attempt.retry_state.set_result(refund)  # what `retry_if_result` looks at
    log.info("credit note refund %s", refund.status if refund else None, extra={"tenant": request.tenant})


async def retry_refunds_of(stream: Any, deps: CreditDeps, settings: Settings) -> None:
    async for event in stream.events():
        request = await parse_or_dead_letter(event, RefundRequested.model_validate_json, "refund request")
        if request is not None:
            await run_step(
                event,
                f"refunding credit note {request.creditNoteId}",
                partial(retry_refund, event, request, deps, settings),
            )
