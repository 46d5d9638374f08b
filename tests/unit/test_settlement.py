"""The settlement rules of invoicing/settlement.py: what is due, the status, overdue at read time, the
payment checks."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from invoicing.clock import utc_now
from invoicing.settlement import (
    InvalidPayment,
    InvoicePaymentStatus,
    Overpayment,
    Payment,
    PaymentSource,
    Settlement,
    apply_payment,
    settlement_of,
    shown_status,
)

D = Decimal
DUE = date(2026, 3, 31)


def test_an_unpaid_invoice_is_open_for_its_gross() -> None:
    settled = Settlement("EUR", D("119.00"))
    assert (settled.status, settled.amount_due) == (InvoicePaymentStatus.OPEN, D("119.00"))


def test_a_partial_payment_leaves_the_rest_due() -> None:
    settled = apply_payment(Settlement("EUR", D("119.00")), D("19.00"), "EUR")
    assert (settled.status, settled.paid, settled.amount_due) == (InvoicePaymentStatus.PARTIALLY_PAID, D(19), D(100))


def test_paying_what_is_due_makes_it_paid() -> None:
    settled = apply_payment(Settlement("EUR", D("119.00"), paid=D("19.00")), D("100.00"), "EUR")
    assert (settled.status, settled.amount_due) == (InvoicePaymentStatus.PAID, D(0))


def test_a_payment_above_what_is_due_is_refused_with_what_is_open() -> None:
    with pytest.raises(Overpayment) as refused:
        apply_payment(Settlement("EUR", D("119.00"), paid=D("100.00")), D("19.01"), "EUR")
    assert refused.value.amount_due == D("19.00")
    assert "amount due of 19.00 EUR" in str(refused.value)


def test_nothing_can_be_paid_on_a_paid_invoice() -> None:
    with pytest.raises(Overpayment, match="nothing is due"):
        apply_payment(Settlement("EUR", D("10.00"), paid=D("10.00")), D("0.01"), "EUR")


def test_a_credit_note_reduces_what_is_due() -> None:
    settled = Settlement("EUR", D("119.00"), credited=D("19.00"))
    assert (settled.status, settled.amount_due) == (InvoicePaymentStatus.OPEN, D(100))
    with pytest.raises(Overpayment):
        apply_payment(settled, D("100.01"), "EUR")
    assert apply_payment(settled, D("100.00"), "EUR").status is InvoicePaymentStatus.PAID


def test_a_fully_credited_invoice_is_credited_and_takes_no_payment() -> None:
    settled = Settlement("EUR", D("119.00")).with_credited(D("119.00"))
    assert (settled.status, settled.amount_due) == (InvoicePaymentStatus.CREDITED, D(0))
    with pytest.raises(Overpayment):
        apply_payment(settled, D("1"), "EUR")


def test_a_paid_invoice_credited_in_full_is_credited_and_never_owes_below_zero() -> None:
    settled = Settlement("EUR", D("50.00"), credited=D("50.00"), paid=D("50.00"))
    assert (settled.status, settled.amount_due) == (InvoicePaymentStatus.CREDITED, D(0))


def test_paid_and_partly_credited_is_paid_with_nothing_due() -> None:
    settled = Settlement("EUR", D("50.00"), credited=D("10.00"), paid=D("50.00"))
    assert (settled.status, settled.amount_due) == (InvoicePaymentStatus.PAID, D(0))


@pytest.mark.parametrize("amount", [D(0), D("-1.00"), D("NaN"), D("Infinity")])
def test_an_amount_must_be_positive(amount: Decimal) -> None:
    with pytest.raises(InvalidPayment, match="positive"):
        apply_payment(Settlement("EUR", D(10)), amount, "EUR")


@pytest.mark.parametrize(("amount", "currency"), [(D("1.001"), "EUR"), (D("1.5"), "JPY"), (D("1.0001"), "KWD")])
def test_an_amount_has_no_more_decimals_than_its_currency(amount: Decimal, currency: str) -> None:
    with pytest.raises(InvalidPayment, match="more decimals"):
        apply_payment(Settlement(currency, D(10)), amount, currency)


@pytest.mark.parametrize(
    ("amount", "currency"), [(D("1.00"), "EUR"), (D("1.0"), "EUR"), (D("5"), "JPY"), (D("1.001"), "KWD")]
)
def test_amounts_within_the_minor_unit_are_taken(amount: Decimal, currency: str) -> None:
    assert apply_payment(Settlement(currency, D(10)), amount, currency).paid == amount


def test_the_currency_must_be_the_invoices() -> None:
    with pytest.raises(InvalidPayment, match="in USD, the invoice in EUR"):
        apply_payment(Settlement("EUR", D(10)), D(1), "USD")


def test_overdue_is_derived_past_the_due_day_for_unsettled_invoices_only() -> None:
    on_the_day = datetime(2026, 3, 31, 23, 59, tzinfo=UTC)
    next_day = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
    assert Settlement("EUR", D(10)).status_at(DUE, on_the_day) is InvoicePaymentStatus.OPEN
    assert Settlement("EUR", D(10)).status_at(DUE, next_day) is InvoicePaymentStatus.OVERDUE
    assert Settlement("EUR", D(10), paid=D(1)).status_at(DUE, next_day) is InvoicePaymentStatus.OVERDUE
    assert Settlement("EUR", D(10), paid=D(10)).status_at(DUE, next_day) is InvoicePaymentStatus.PAID
    assert Settlement("EUR", D(10), credited=D(10)).status_at(DUE, next_day) is InvoicePaymentStatus.CREDITED
    assert Settlement("EUR", D(10)).status_at(None, next_day) is InvoicePaymentStatus.OPEN


def test_overdue_is_never_a_stored_status() -> None:
    for paid in (D(0), D(5), D(10)):
        assert Settlement("EUR", D(10), paid=paid).status is not InvoicePaymentStatus.OVERDUE
    assert shown_status(InvoicePaymentStatus.PARTIALLY_PAID, DUE, datetime(2027, 1, 1, tzinfo=UTC)) == "overdue"


def test_the_settlement_of_recorded_payments_adds_them_up() -> None:
    payments = [
        Payment(f"p{n}", D(amount), "EUR", DUE, "bank_transfer", None, utc_now(), PaymentSource.API)
        for n, amount in enumerate(["10.00", "5.50"])
    ]
    settled = settlement_of("EUR", D("20.00"), D("1.00"), payments)
    assert (settled.paid, settled.amount_due, settled.status) == (D("15.50"), D("3.50"), "partially_paid")


def test_the_clock_is_aware_utc() -> None:
    assert utc_now().utcoffset() is not None and utc_now().tzinfo is UTC
