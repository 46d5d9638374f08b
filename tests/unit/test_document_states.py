"""The states of an invoice's and a credit note's email, a credit-note request and its refund
(invoicing/email_state.py, invoicing/credit_state.py), and that the stored states are the domain's."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from infra import records
from invoicing import statuses
from invoicing.credit_state import CreditNoteRequestRecord, RefundState, RequestFinished
from invoicing.email_state import EmailState
from invoicing.statuses import CreditNoteStatus, EmailStatus, RefundStatus
from schemas import api

AT = datetime(2026, 1, 2, tzinfo=UTC)
LATER = datetime(2026, 1, 3, tzinfo=UTC)


def test_a_new_document_is_not_emailed() -> None:
    assert EmailState().status is EmailStatus.NOT_SENT


def test_a_send_clears_an_earlier_failure() -> None:
    sent = EmailState().deferred("no answer").sent(AT)
    assert sent == EmailState(emailed_at=AT) and sent.status is EmailStatus.SENT


def test_a_failure_for_now_is_pending_and_keeps_the_last_send() -> None:
    pending = EmailState().sent(AT).deferred("451 try later")
    assert pending == EmailState(emailed_at=AT, pending=True, error="451 try later")
    assert pending.status is EmailStatus.PENDING


def test_a_refusal_ends_the_retries_and_shows_failed_even_after_a_send() -> None:
    refused = EmailState().sent(AT).deferred("451").refused("550 no such user")
    assert refused == EmailState(emailed_at=AT, pending=False, error="550 no such user")
    assert refused.status is EmailStatus.FAILED
    assert refused.sent(LATER).status is EmailStatus.SENT  # a resend that works


def test_records_carry_the_email_state_as_stored() -> None:
    invoice = records.InvoiceRecord("t", "o", "j", 1, "N-1", True, {}, None, None)
    moved = invoice.with_email(invoice.email.sent(AT).deferred("451"))
    assert (moved.emailed_at, moved.email_pending, moved.email_error) == (AT, True, "451")
    assert moved.email_status is EmailStatus.PENDING


def request() -> CreditNoteRequestRecord:
    return CreditNoteRequestRecord("t", "r", "N-1", "o", CreditNoteStatus.IN_PROGRESS, None, None, AT, AT)


def test_a_credit_note_request_finishes_done_or_failed() -> None:
    assert not request().is_finished
    done = request().finished(CreditNoteStatus.DONE, "Credit note C-1 created", "C-1", LATER)
    assert done.is_finished and (done.status, done.credit_note_number, done.updated_at) == (
        CreditNoteStatus.DONE,
        "C-1",
        LATER,
    )
    failed = request().finished(CreditNoteStatus.FAILED, "nothing left to credit", None, LATER)
    assert failed.is_finished and failed.message == "nothing left to credit"


def test_a_credit_note_request_never_finishes_in_progress() -> None:
    with pytest.raises(RequestFinished):
        request().finished(CreditNoteStatus.IN_PROGRESS, "?", None, LATER)


def test_a_refund_follows_the_payment() -> None:
    assert RefundState.for_credit(Decimal("5.00"), captured=False).status is RefundStatus.NOT_NEEDED
    pending = RefundState.for_credit(Decimal("5.00"), captured=True)
    assert pending == RefundState(RefundStatus.PENDING, Decimal("5.00"))
    unconfirmed = pending.unconfirmed("HTTP 503")
    assert (unconfirmed.status, unconfirmed.error) == (RefundStatus.PENDING, "HTTP 503")
    refunded = unconfirmed.refunded("ref-1")
    assert refunded == RefundState(RefundStatus.REFUNDED, Decimal("5.00"), "ref-1", None)
    refused = pending.refused("card closed")
    assert (refused.status, refused.error, refused.amount) == (RefundStatus.FAILED, "card closed", Decimal("5.00"))


@pytest.mark.parametrize(
    "name", ["JobStatus", "JobType", "JobTrigger", "OrderResultStatus", "EmailStatus", "CreditNoteStatus"]
)
def test_the_wire_shows_the_domain_s_stored_states(name: str) -> None:
    """The API re-exports the domain's enums, so renaming one on the wire cannot change what is stored."""
    assert getattr(api, name) is getattr(statuses, name)


def test_the_records_store_the_domain_s_states() -> None:
    assert records.RefundStatus is statuses.RefundStatus
    assert records.Job.__module__ == "invoicing.jobs" and records.CreditNoteRequestRecord.__module__ == (
        "invoicing.credit_state"
    )
