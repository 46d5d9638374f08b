"""Which orders are captured before they are invoiced, with what amount and idempotency key, and what
the invoice then says about the payment."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from invoicing.document import DEFAULT_SELLER, build_invoice_document
from invoicing.payments import (
    CapturedPayment,
    CaptureNotPossible,
    capture_request,
    idempotency_key,
    payment_to_capture,
)
from invoicing.recalculation import recalculate
from schemas.orders import Order, parse_order_event
from tests.factories import encoded, order_event

CARD = {
    "method": "credit_card",
    "status": "AUTHORIZED",
    "authorizedAmount": 58.76,
    "transactionId": "tx-1",
    "provider": "fakepay",
}


def order(*payments: dict[str, Any], order_id: str = "o-1") -> Order:
    return parse_order_event(encoded(order_event("shop", order_id, payments=list(payments)))).order


def test_an_authorised_card_payment_is_captured_with_the_invoice_total_as_decimal() -> None:
    card = order(CARD)
    request = capture_request("shop", card, recalculate(card))
    assert request is not None
    assert request.transaction_id == "tx-1"
    assert request.amount == Decimal("58.76") and isinstance(request.amount, Decimal)
    assert request.currency == "EUR"
    assert request.method == "credit_card"
    assert request.idempotency_key == idempotency_key("shop", "o-1")


@pytest.mark.parametrize(
    "payments",
    [
        [{"method": "invoice", "status": "PENDING"}],  # paid later, on the invoice
        [{"method": "invoice", "status": "AUTHORIZED", "transactionId": "x"}],  # still paid on invoice
        [{**CARD, "status": "CAPTURED"}],  # paid already
        [{**CARD, "status": "CAPTURED", "transactionId": "a"}, {**CARD, "transactionId": "b"}],  # one capture is enough
        [{**CARD, "status": "FAILED"}],  # nothing authorised: the invoice asks for payment
        [],
    ],
    ids=["invoice", "invoice-authorized", "captured", "captured-and-authorized", "failed", "no-payment"],
)
def test_orders_paid_later_or_already_captured_are_not_captured(payments: list[dict[str, Any]]) -> None:
    paid = order(*payments)
    assert payment_to_capture(paid) is None
    assert capture_request("shop", paid, recalculate(paid)) is None


def test_an_authorisation_without_transaction_or_below_the_total_cannot_be_captured() -> None:
    without_transaction = order({**CARD, "transactionId": None})
    with pytest.raises(CaptureNotPossible, match="no transactionId"):
        capture_request("shop", without_transaction, recalculate(without_transaction))
    too_little = order({**CARD, "authorizedAmount": 58.75})
    with pytest.raises(CaptureNotPossible, match=r"58\.75 EUR is less than the invoice total 58\.76 EUR"):
        capture_request("shop", too_little, recalculate(too_little))
    two = order(CARD, {**CARD, "transactionId": "tx-2"})
    with pytest.raises(CaptureNotPossible, match="2 authorised payments"):
        payment_to_capture(two)


def test_an_authorisation_without_amount_is_captured_for_the_total() -> None:
    open_amount = order({**CARD, "authorizedAmount": None})
    request = capture_request("shop", open_amount, recalculate(open_amount))
    assert request is not None and request.amount == Decimal("58.76")


def test_idempotency_key_is_stable_per_tenant_and_order_and_header_safe() -> None:
    key = idempotency_key("shop", "o-1")
    assert key == idempotency_key("shop", "o-1")  # every redelivery, every worker, every job
    assert len({key, idempotency_key("shop", "o-2"), idempotency_key("shop2", "o-1")}) == 3
    # "shop" + "1:o" and "shop1" + ":o" must not meet: tenants have no ':', the separator keeps them apart
    assert idempotency_key("shop", "1:o") != idempotency_key("shop1", "o")
    odd = idempotency_key("shop", "Bestellung Nr. 5 / Ä\nX")
    assert odd.isascii() and odd.isprintable() and len(odd) == len(key)


def test_a_captured_payment_makes_the_invoice_paid_on_the_capture_day() -> None:
    card = order(CARD)
    document = build_invoice_document(
        order=card,
        tenant="shop",
        totals=recalculate(card),
        invoice_number="INV-1",
        issued_at=datetime(2026, 11, 25, 9, tzinfo=UTC),
        seller=DEFAULT_SELLER,
        captured=CapturedPayment(method="credit_card", captured_at=datetime(2026, 11, 25, 8, 59, tzinfo=UTC)),
    )
    assert document.payment.paid
    assert document.payment.method == "credit_card"
    assert document.payment.paid_on == date(2026, 11, 25)
    assert document.payment.due_on is None


def test_without_a_capture_an_authorised_order_would_be_due() -> None:
    # What the capture step prevents: an authorised but uncaptured payment is not "paid".
    card = order(CARD)
    document = build_invoice_document(
        order=card,
        tenant="shop",
        totals=recalculate(card),
        invoice_number="INV-1",
        issued_at=datetime(2026, 11, 25, 9, tzinfo=UTC),
        seller=DEFAULT_SELLER,
    )
    assert not document.payment.paid
    assert document.payment.due_on == date(2026, 12, 9)
