"""The state of a document's email to its customer (an invoice's, a credit note's), and how a send moves
it. The stores keep these fields and write what these transitions give; the emailStatus an invoice is
listed by is `EmailState.status`."""

from dataclasses import dataclass, replace
from datetime import datetime

from invoicing.statuses import EmailStatus


@dataclass(frozen=True)
class EmailState:
    emailed_at: datetime | None = None  # the last successful send
    pending: bool = False  # a send failed for now; an email request retries it
    error: str | None = None  # why the last send failed

    @property
    def status(self) -> EmailStatus:
        """The outcome of the latest send: a failed resend of a document emailed before is FAILED."""
        if self.pending:
            return EmailStatus.PENDING
        if self.error is not None:
            return EmailStatus.FAILED
        if self.emailed_at is not None:
            return EmailStatus.SENT
        return EmailStatus.NOT_SENT

    def sent(self, at: datetime) -> "EmailState":
        """Sent at `at`: any earlier failure is over."""
        return EmailState(emailed_at=at)

    def deferred(self, reason: str) -> "EmailState":
        """A send failed for now (the mail server did not answer): to be retried; an earlier send stays."""
        return replace(self, pending=True, error=reason)

    def refused(self, reason: str) -> "EmailState":
        """The mail server refused the email for good: no more retries; an earlier send stays."""
        return replace(self, pending=False, error=reason)
