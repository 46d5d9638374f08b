"""Prometheus metrics that both processes record (prometheus-client, the ecosystem's convention).

Store round trips are counted by a PyMongo command listener on the one client each process opens, so
every command the service sends is counted, whichever adapter sent it. No tenant or document values
as labels (the kind of a document, invoice or credit_note, is no value of one): the command name only.
"""

from typing import Literal, get_args

from prometheus_client import Counter, Gauge, Histogram
from pymongo import monitoring

from infra.settings import get_settings

STORE_COMMANDS = Counter(
    "invoice_store_commands", "MongoDB commands sent (each one round trip), by command name", ["command"]
)
STORE_COMMAND_FAILURES = Counter(
    "invoice_store_command_failures",
    "MongoDB commands that failed (refused or unanswered), by command name",
    ["command"],
)


class StoreCommandCounter(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        STORE_COMMANDS.labels(event.command_name).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        STORE_COMMAND_FAILURES.labels(event.command_name).inc()


# --- what both processes record besides store commands (README "Operating it" lists them) -------------

# Histogram buckets from 5 ms to 2 min: a PDF render takes ~0.1-1 s, a payment capture may be retried
# for a minute, an HTTP call mostly a few milliseconds.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

HTTP_REQUESTS = Counter(
    "invoice_http_requests",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "invoice_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method",
    ["route", "method"],
    buckets=DURATION_BUCKETS,
)
JOBS_CREATED = Counter("invoice_jobs_created", "Invoice jobs accepted (201), by job type", ["job_type", "tenant"])
ORDERS_FINISHED = Counter(
    "invoice_orders_finished",
    "Orders a worker finished, by status (SUCCESS, FAILURE) and failure reason class "
    "(validation, price, payment, sequence, internal; none for SUCCESS)",
    ["status", "reason_class", "tenant"],
)
PIPELINE_STEP_SECONDS = Histogram(
    "invoice_pipeline_step_duration_seconds",
    "Time of one pipeline step of one order (validate, recalculate, capture, number, render, store, email)",
    ["step"],
    buckets=DURATION_BUCKETS,
)
RENDER_QUEUE_DEPTH = Gauge("invoice_render_queue_depth", "PDFs waiting for a free render process")
RENDER_BUSY_PROCESSES = Gauge("invoice_render_busy_processes", "Render processes rendering a PDF now")
# The emails of every document the worker sends (streams/emailing.py), by `document`: invoice, credit_note.
EmailedKind = Literal["invoice", "credit_note", "reminder"]
EMAILS_PENDING = Counter(
    "invoice_emails_pending",
    "Emails whose first send failed and were queued for retries (invoice-emails), by document",
    ["document"],
)
EMAILS_RETRIED = Counter(
    "invoice_emails_retried", "Send attempts of the email agent after a failed attempt, by document", ["document"]
)
EMAILS_FAILED = Counter(
    "invoice_emails_failed", "Emails the mail server refused for good (not retried), by document", ["document"]
)
EMAILS_SENT = Counter(
    "invoice_emails_sent",
    "Emails the mail server took, by attempt (first, queued) and document",
    ["attempt", "document"],
)
for _document in get_args(EmailedKind):  # every series from 0, so rate() and increase() see the first one
    for _counter in (EMAILS_PENDING, EMAILS_RETRIED, EMAILS_FAILED):
        _counter.labels(_document)
    for _attempt in ("first", "queued"):
        EMAILS_SENT.labels(_attempt, _document)
DEAD_LETTERS = Counter(
    "invoice_dead_letters",
    "Records sent to the dead-letter topic, by source topic and reason class (invalid, defect, unprocessable)",
    ["topic", "reason_class"],
)
CONSUMER_LAG = Gauge(
    "invoice_consumer_lag",
    "Records on a partition this worker is assigned that its consumer group has not committed yet",
    ["topic", "partition"],
)
SCHEDULE_FAILURES = Counter(
    "invoice_schedule_failures",
    "Scheduled jobs of a tenant that a scheduler tick could not start (the others' went on), by reason class "
    "(transient: a dependency away, tried again next tick; defect: logged with a reference)",
    ["reason_class", "tenant"],
)
KAFKA_ERRORS = Counter(
    "invoice_kafka_errors", "Kafka operations that failed (connect, publish, metadata), by operation", ["operation"]
)


def tenant_label(tenant: str) -> str:
    """The tenant as a label value only when INVOICE_METRICS_TENANT_LABELS is set: one time series per
    tenant multiplies the series of every metric that carries it, which few Prometheus servers afford."""
    return tenant if get_settings().metrics_tenant_labels else ""


WEBHOOK_ATTEMPTS = Counter(
    "invoice_webhook_attempts",
    "Webhook delivery attempts by outcome: delivered (a 2xx), retrying (failed, another attempt is scheduled), "
    "failed (the last attempt of its schedule failed)",
    ["outcome"],
)
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "invoice_webhook_endpoints_disabled", "Webhook endpoints disabled after a delivery failed its whole schedule"
)
REMINDERS_SENT = Counter("invoice_reminders_sent", "Reminder emails the mail server took, by level", ["level"])
OVERDUE_ANNOUNCED = Counter("invoice_overdue_announced", "Invoices announced overdue (invoice.overdue)")
AMOUNT_OPEN = Gauge(
    "invoice_amount_open",
    "What every issued, unsettled invoice leaves open, by payment status as shown (overdue derived) and currency",
    ["status", "currency"],
)
