"""The topic contract, declared once: each Kafka topic with the setting that names it, the records it
carries and the function that keys them. The worker's Faust topics (streams/app.py), the CLI's
ensure_topics, the benches and the AsyncAPI export (schemas/export.py) read this; a sender never builds a
key by hand, it asks the topic's spec (`spec.key_of(record)`).

Keys decide partitions, and partitions decide order. "One job's results on one partition" (tenant:jobId
on invoice-order-results) is what keeps the projection correct: a job's plan is folded before its
results, and one projector folds each job. One order's events, emails and credit notes stay in order for
the same reason (tenant:orderId).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from schemas.events import (
    CreditNoteRequested,
    DeadLetter,
    InvoiceEmailRequested,
    JobPlanned,
    JobRequested,
    OrderFailed,
    OrderInvoiced,
    OrderInvoiceRequested,
    RefundRequested,
)
from schemas.orders import OrderEvent
from schemas.public_events import ALL_PUBLIC_EVENTS, PublicEventT, subject_of

R = TypeVar("R")


@dataclass(frozen=True)
class TopicSpec(Generic[R]):
    setting: str  # the field of infra/settings.py that names the topic (before INVOICE_TOPIC_PREFIX)
    default: str  # its default name, as the AsyncAPI document gives it
    records: tuple[type[BaseModel], ...]
    key: Callable[[R], str] | None  # None: the sender passes a key on (a dead letter keeps its record's)
    key_description: str
    writer: str
    description: str = ""

    def key_text(self, record: R) -> str:
        if self.key is None:
            raise TypeError(f"topic {self.default} has no key function: its sender passes the key on")
        return self.key(record)

    def key_of(self, record: R) -> bytes:
        return self.key_text(record).encode()


def public_event_key(event: PublicEventT) -> str:
    """tenant:orderId, tenant:jobId for job.completed: one order's (one job's) events in order."""
    return f"{event.tenant}:{subject_of(event)}"


ORDER_EVENTS = TopicSpec[OrderEvent](
    "topic_order_events",
    "order-events",
    (OrderEvent,),
    lambda event: f"{event.tenant}:{event.order.id}",
    "tenant:orderId",
    "upstream order services",
)
JOB_REQUESTS = TopicSpec[JobRequested](
    "topic_job_requests",
    "invoice-job-requests",
    (JobRequested,),
    lambda request: f"{request.tenant}:{request.jobId}",
    "tenant:jobId",
    "the API",
)
ORDER_REQUESTS = TopicSpec[OrderInvoiceRequested](
    "topic_order_requests",
    "invoice-order-requests",
    (OrderInvoiceRequested,),
    lambda request: f"{request.tenant}:{request.orderId}",
    "tenant:orderId",
    "agent plan",
)
ORDER_RESULTS = TopicSpec[JobPlanned | OrderInvoiced | OrderFailed](
    "topic_order_results",
    "invoice-order-results",
    (JobPlanned, OrderInvoiced, OrderFailed),
    lambda result: f"{result.tenant}:{result.jobId}",
    "tenant:jobId",
    "agents plan and invoice",
    "One job's plan and results on one partition: what keeps the projection correct.",
)
INVOICE_EMAILS = TopicSpec[InvoiceEmailRequested](
    "topic_invoice_emails",
    "invoice-emails",
    (InvoiceEmailRequested,),
    lambda request: f"{request.tenant}:{request.orderId}",
    "tenant:orderId",
    "agent invoice (a failed first send) and the API",
)
CREDIT_NOTE_REQUESTS = TopicSpec[CreditNoteRequested](
    "topic_credit_note_requests",
    "invoice-credit-note-requests",
    (CreditNoteRequested,),
    lambda request: f"{request.tenant}:{request.orderId}",
    "tenant:orderId",
    "the API",
    "One invoice's credit notes are made one after the other.",
)
REFUNDS = TopicSpec[RefundRequested](
    "topic_refunds",
    "invoice-refunds",
    (RefundRequested,),
    lambda request: f"{request.tenant}:{request.creditNoteId}",
    "tenant:creditNoteId",
    "agent credit (a refund not confirmed)",
)
DEAD_LETTERS = TopicSpec[DeadLetter](
    "topic_dead_letters", "invoice-dead-letters", (DeadLetter,), None, "the original record's key", "every agent"
)
PUBLIC_EVENTS = TopicSpec[PublicEventT](
    "topic_invoice_events",
    "invoice-events",
    ALL_PUBLIC_EVENTS,
    public_event_key,
    "tenant:orderId (tenant:jobId for job.completed)",
    "the worker, for downstream systems: CloudEvents 1.0 in binary mode (headers ce_specversion, ce_id, "
    "ce_type, ce_source, ce_time, ce_subject, content-type); deduplicate by ce_id, which is the same "
    "for every emission of one state change",
)

# Every topic of the service, in the order the AsyncAPI document lists them.
TOPICS: tuple[TopicSpec[Any], ...] = (
    ORDER_EVENTS,
    JOB_REQUESTS,
    ORDER_REQUESTS,
    ORDER_RESULTS,
    INVOICE_EMAILS,
    CREDIT_NOTE_REQUESTS,
    REFUNDS,
    DEAD_LETTERS,
    PUBLIC_EVENTS,
)
