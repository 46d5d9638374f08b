"""The worker acts only on what the API recorded: every request record (a job, each order a job
planned, a credit note, an email resend) is checked against the store before any number, capture,
refund or email. A record with no matching stored request (same tenant, same job, order, invoice or
request, the same content, still in progress) is dead-lettered with its reason, reason class
"unrecorded", and does nothing else: a forged record, or one the API withdrew after a publish timeout
(README "Under faults", "Trust boundaries").

Each check is one store round trip by `_id` (two at once for an AUTOMATIC job's order: the job and the
order's claim) and returns the reason a record is refused, or None. The checks of jobs, credit notes
and email resends are conditional writes that mark the request started: from then on the API can no
longer withdraw it, so a request is either withdrawn and never acted on, or acted on and answered as
accepted.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from infra.ports import ClaimStore, CreditNoteStore, InvoiceStore, JobStore
from schemas.api import JobType
from schemas.events import CreditNoteRequested, EmailReason, InvoiceEmailRequested, JobRequested, OrderInvoiceRequested
from streams.failures import Defect, run_step, send_to_dead_letters

UNRECORDED = "unrecorded"


async def acts_on_recorded(event: Any, what: str, unrecorded: Callable[[], Awaitable[str | None]]) -> bool:
    """Whether the agent may act on `event`: its check found the stored request. Otherwise the record is
    dead-lettered with the check's reason (or as a defect, when the check itself failed) and False is
    returned. The check is retried while the store is away, like any step."""
    reason = await run_step(event, f"checking {what} against the store", unrecorded)
    if isinstance(reason, Defect):
        return False
    if reason is not None:
        await send_to_dead_letters(event, f"{what} not acted on: {reason}", UNRECORDED)
        return False
    return True


async def unrecorded_job(jobs: JobStore, request: JobRequested) -> str | None:
    """The planner's check: the API (or the scheduler) recorded this job for this tenant, of this type,
    with this very request, and it is in progress. A redelivered request passes again (it is the same)."""
    if await jobs.start(request.tenant, request.jobId, request.jobType, request.digest()):
        return None
    return (
        f"no {request.jobType.value} job {request.jobId} of tenant {request.tenant} in progress recorded with this "
        "request (never recorded, another tenant's, withdrawn after a publish timeout, finished, or recorded "
        "with other content)"
    )


async def unrecorded_order_request(jobs: JobStore, claims: ClaimStore, request: OrderInvoiceRequested) -> str | None:
    """The invoice agent's check: the order request belongs to a stored job in progress of the same tenant
    and type that planned this order (a MANUAL job was asked for it; an AUTOMATIC job claimed it)."""
    tenant, job_id, order_id = request.tenant, request.jobId, request.orderId
    if request.jobType is JobType.AUTOMATIC:
        planned, claimed = await asyncio.gather(
            jobs.planned_type(tenant, job_id, order_id), claims.holds(tenant=tenant, job_id=job_id, order_id=order_id)
        )
        recorded = planned is JobType.AUTOMATIC and claimed
    else:
        planned = await jobs.planned_type(tenant, job_id, order_id)
        # A request without a type (written before the field existed) is of a MANUAL job, or of an
        # AUTOMATIC one whose claim says so.
        recorded = planned is JobType.MANUAL or (
            planned is JobType.AUTOMATIC
            and request.jobType is None
            and await claims.holds(tenant=tenant, job_id=job_id, order_id=order_id)
        )
    if recorded:
        return None
    kind = request.jobType.value if request.jobType else "recorded"
    return f"order {order_id} is no order of a {kind} job {job_id} of tenant {tenant} in progress"


async def unrecorded_credit_note(credit_notes: CreditNoteStore, request: CreditNoteRequested) -> str | None:
    """The credit-note agent's check: this tenant asked for this credit note of this invoice and order,
    with this content, through the API, and the request is still in progress."""
    if await credit_notes.start_request(
        request.tenant, request.creditNoteId, request.invoiceNumber, request.orderId, request.digest()
    ):
        return None
    return (
        f"no credit-note request {request.creditNoteId} of tenant {request.tenant} for invoice "
        f"{request.invoiceNumber} in progress recorded with this content (never recorded, another tenant's, "
        "withdrawn after a publish timeout, finished, or recorded with other content)"
    )


async def unrecorded_email_request(invoices: InvoiceStore, request: InvoiceEmailRequested) -> str | None:
    """The email agent's check of a resend (a client's request through the API, which records it): this
    tenant recorded this request with this content and it is not done. A RETRY (the worker's own, after a
    first send failed) sends only an email never sent; the email step checks that against the invoice."""
    if request.reason is not EmailReason.RESEND:
        return None
    if request.requestId is not None and await invoices.start_email_request(
        request.tenant, request.requestId, request.digest()
    ):
        return None
    return (
        f"no email request {request.requestId} of tenant {request.tenant} recorded with this content and not "
        "done (never recorded, withdrawn after a publish timeout, already sent, or recorded with other content)"
    )
