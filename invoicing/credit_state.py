"""Where a credit note stands: its request (IN_PROGRESS until DONE or FAILED, once) and its refund (the
money going back the way it came). The stores keep these and write what these transitions give."""

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from invoicing.statuses import CreditNoteStatus, RefundStatus


class RequestFinished(ValueError):
    """A request can only finish DONE or FAILED."""


@dataclass(frozen=True)
class CreditNoteRequestRecord:
    """A credit note asked for through the API, and what became of it (the resource a client polls)."""

    tenant: str
    request_id: str
    invoice_number: str
    order_id: str
    status: CreditNoteStatus
    message: str | None
    credit_note_number: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def is_finished(self) -> bool:
        return self.status is not CreditNoteStatus.IN_PROGRESS

    def finished(
        self, status: CreditNoteStatus, message: str, number: str | None, at: datetime
    ) -> "CreditNoteRequestRecord":
        check_final(status)
        return replace(self, status=status, message=message, credit_note_number=number, updated_at=at)


def check_final(status: CreditNoteStatus) -> CreditNoteStatus:
    """`status`, if a request may finish with it (DONE or FAILED); else RequestFinished."""
    if status is CreditNoteStatus.IN_PROGRESS:
        raise RequestFinished("a credit-note request finishes DONE or FAILED, not IN_PROGRESS")
    return status


@dataclass(frozen=True)
class RefundState:
    status: RefundStatus
    amount: Decimal
    refund_id: str | None = None
    error: str | None = None

    @classmethod
    def for_credit(cls, amount: Decimal, *, captured: bool) -> "RefundState":
        """A new credit note's refund: PENDING when the payment was captured (the gateway gives it
        back), else NOT_NEEDED (the credit reduces what is due)."""
        return cls(RefundStatus.PENDING if captured else RefundStatus.NOT_NEEDED, amount)

    def refunded(self, refund_id: str) -> "RefundState":
        return replace(self, status=RefundStatus.REFUNDED, refund_id=refund_id, error=None)

    def unconfirmed(self, error: str) -> "RefundState":
        """The gateway gave no answer: still PENDING (the refund agent retries), with why."""
        return replace(self, status=RefundStatus.PENDING, error=error)

    def refused(self, error: str) -> "RefundState":
        """Refused for good (or nothing to refund): FAILED with its reason; an operator must act."""
        return replace(self, status=RefundStatus.FAILED, error=error)
