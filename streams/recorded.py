"""The worker acts only on what the API recorded: every request record (a job, each order a job
planned, a credit note, an email resend) is checked against the store before any number, capture,
refund or email. A record with no matching stored request (same tenant, same job, order, invoice or
request, the same content, still in progress) is dead-lettered with its reason, reason class
"unrecorded", and does nothing else: a forged record, or one the API withdrew after a publish timeout
(README "Under faults", "Trust boundaries"). A record of a request recorded with this content but done
already (a redelivery after a worker stopped before committing its offset, or a replay) does nothing
either, and is passed over without a dead letter.

Each check is one store round trip by `_id` (two at once for an AUTOMATIC job's order: the job and the
order's claim) and returns the reason a record is refused, or None. The checks of jobs, credit notes
and email resends are conditional writes that mark the request started: from then on the API can no
longer withdraw it, so a request is either withdrawn and never acted on, or acted on and answered as
accepted.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from infra.ports import ClaimStore, CreditNoteStore, InvoiceStore, JobStore, RequestState
from schemas.api import JobStatus, JobType
from schemas.events import CreditNoteRequested, EmailReason, InvoiceEmailRequested, JobRequested, OrderInvoiceRequested
from streams.failures import Defect, run_step, send_to_dead_letters

UNRECORDED = "unrecorded"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finished:
    """The request is recorded, with this content, and done: the record is a redelivery (a worker
    stopped before committing its offset) or a replay. Nothing to do, and nothing to report."""

    what: str


Verdict = str | Finished | None  # why the record is refused; that it is done already; or None: act on it


async def acts_on_recorded(event: Any, what: str, check: Callable[[], Awaitable[Verdict]]) -> bool:
    """Whether the agent may act on `event`: its check found the stored request in progress. A refused
    record is dead-lettered with the check's reason (or as a defect, when the check itself failed); one of
    a request already done is passed over. The check is retried while the store is away, like any step."""
    verdict = await run_step(event, f"checking {what} against the store", check)
    if isinstance(verdict, Defect):
        return False
    if isinstance(verdict, Finished):
        log.info("%s: %s is done already; the record is passed over", what, verdict.what)
        return False
    if verdict is not None:
        await send_to_dead_letters(event, f"{what} not acted on: {verdict}", UNRECORDED)
        return False
    return True


def verdict(state: RequestState, what: str, refused: str) -> Verdict:
    if state is RequestState.STARTED:
        return None
    return Finished(what) if state is RequestState.FINISHED else refused


async def unrecorded_job(jobs: JobStore, request: JobRequested) -> Verdict:
    """The planner's check: the API (or the scheduler) recorded this job for this tenant, of this type,
    with this very request, and it is in progress. A redelivered request passes again (it is the same)."""
    state = await jobs.start(request.tenant, request.jobId, request.jobType, request.digest())
    return verdict(
        state,
        f"job {request.jobId}",
        f"no {request.jobType.value} job {request.jobId} of tenant {request.tenant} in progress recorded with this "
        "request (never recorded, another tenant's, withdrawn after a publish timeout, or recorded with other "
        "content)",
    )


async def unrecorded_order_request(jobs: JobStore, claims: ClaimStore, request: OrderInvoiceRequested) -> Verdict:
    """The invoice agent's check: the order request belongs to a stored job of the same tenant and type
    that planned this order (a MANUAL job was asked for it; an AUTOMATIC job claimed it), in progress."""
    tenant, job_id, order_id = request.tenant, request.jobId, request.orderId
    if request.jobType is JobType.AUTOMATIC:
        planned, claimed = await asyncio.gather(
            jobs.planned_by(tenant, job_id, order_id), claims.holds(tenant=tenant, job_id=job_id, order_id=order_id)
        )
    else:
        planned = await jobs.planned_by(tenant, job_id, order_id)
        # A request without a type (written before the field existed) is of a MANUAL job, or of an
        # AUTOMATIC one whose claim says so.
        claimed = (
            planned is not None
            and planned[0] is JobType.AUTOMATIC
            and request.jobType is None
            and await claims.holds(tenant=tenant, job_id=job_id, order_id=order_id)
        )
    if planned is not None:
        job_type, status = planned
        if (job_type is JobType.MANUAL and request.jobType in (None, JobType.MANUAL)) or claimed:
            # A job is done once every order has its result: this one's request was handled before.
            return None if status is JobStatus.IN_PROGRESS else Finished(f"job {job_id}")
    kind = request.jobType.value if request.jobType else "recorded"
    return f"order {order_id} is no order of a {kind} job {job_id} of tenant {tenant} in progress"


async def unrecorded_credit_note(credit_notes: CreditNoteStore, request: CreditNoteRequested) -> Verdict:
    """The credit-note agent's check: this tenant asked for this credit note of this invoice and order,
    with this content, through the API, and the request is still in progress."""
    state = await credit_notes.start_request(
        request.tenant, request.creditNoteId, request.invoiceNumber, request.orderId, request.digest()
    )
    return verdict(
        state,
        f"credit-note request {request.creditNoteId}",
        f"no credit-note request {request.creditNoteId} of tenant {request.tenant} for invoice "
        f"{request.invoiceNumber} in progress recorded with this content (never recorded, another tenant's, "
        "withdrawn after a publish timeout, or recorded with other content)",
    )


async def unrecorded_email_request(invoices: InvoiceStore, request: InvoiceEmailRequested) -> Verdict:
    """The email agent's check of a resend (a client's request through the API, which records it): this
    tenant recorded this request with this content and it is not done. A RETRY (the worker's own, after a
    first send failed) sends only an email never sent; the email step checks that against the invoice."""
    if request.reason is not EmailReason.RESEND:
        return None
    refused = (
        f"no email request {request.requestId} of tenant {request.tenant} recorded with this content (never "
        "recorded, withdrawn after a publish timeout, or recorded with other content)"
    )
    if request.requestId is None:
        return refused
    state = await invoices.start_email_request(request.tenant, request.requestId, request.digest())
    return verdict(state, f"email request {request.requestId}", refused)
