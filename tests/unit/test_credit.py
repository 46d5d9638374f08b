"""What is left to credit and the figures of a credit note, on the factories' standard order.
Expected figures are worked out by hand (see tests/factories.py):
entry 1: 2 x 19.99 at 19 % (net 39.98), entry 2: 1 x 5.00 at 7 %, shipping 4.90 at 19 %; total 58.76."""

from decimal import Decimal
from typing import Any

import pytest

from invoicing.credit import CreditAsk, CreditedQuantity, NothingToCredit, OverCredit, credit_totals, left_to_credit
from invoicing.recalculation import Totals, recalculate
from schemas.orders import parse_order_event
from tests.factories import encoded, order_event


def invoice_totals(**order: Any) -> Totals:
    return recalculate(parse_order_event(encoded(order_event("shop", "o-1", **order))).order)


def lines(*quantities: tuple[str, str]) -> CreditAsk:
    return CreditAsk(lines=tuple(CreditedQuantity(entry, Decimal(quantity)) for entry, quantity in quantities))


def test_the_whole_invoice() -> None:
    invoice = invoice_totals()
    whole = credit_totals(invoice, [], CreditAsk(whole=True))
    assert whole == invoice  # every line, the shipping, every tax: the invoice's own figures
    assert left_to_credit(invoice, [whole]).nothing


def test_credits_in_parts_add_up_to_the_invoice_to_the_cent() -> None:
    invoice = invoice_totals()
    first = credit_totals(invoice, [], lines(("1", "1")))
    assert (first.subtotal, first.tax_total, first.total) == (Decimal("19.99"), Decimal("3.80"), Decimal("23.79"))
    second = credit_totals(invoice, [first], CreditAsk(lines=(CreditedQuantity("1", Decimal(1)),), shipping=True))
    assert (second.subtotal, second.shipping_net, second.total) == (Decimal("19.99"), Decimal("4.90"), Decimal("29.62"))
    rest = credit_totals(invoice, [first, second], CreditAsk(whole=True))
    assert (rest.subtotal, rest.total) == (Decimal("5.00"), Decimal("5.35"))
    assert first.total + second.total + rest.total == invoice.total


def test_the_last_share_of_a_line_takes_what_is_left_of_it() -> None:
    """3 x 0.10 less 0.05 discount: net 0.25. Thirds round to 0.08 each; the last takes 0.09."""
    entries = [{"id": "a", "product": {"name": "Nail"}, "amount": 3, "unitPrice": 0.10, "discount": 0.05, "taxRate": 0}]
    invoice = invoice_totals(entries=entries, shipping=None, sub_total="0.25", total="0.25")
    shares: list[Totals] = []
    for _ in range(3):
        shares.append(credit_totals(invoice, shares, lines(("a", "1"))))
    assert [share.lines[0].net for share in shares] == [Decimal("0.08"), Decimal("0.08"), Decimal("0.09")]
    assert [share.lines[0].discount for share in shares] == [Decimal("0.02"), Decimal("0.02"), Decimal("0.01")]
    assert sum(share.total for share in shares) == invoice.total


def test_the_last_credit_note_takes_the_tax_left_at_each_rate() -> None:
    """Three units of 0.05 at 19 %: the invoice's tax is 0.15 x 0.19 = 0.0285 -> 0.03, each unit's
    0.0095 -> 0.01; so the third credit note's tax is what is left, 0.01 (and not more)."""
    entries = [{"id": "a", "product": {"name": "Clip"}, "amount": 3, "unitPrice": 0.05, "taxRate": 19}]
    invoice = invoice_totals(entries=entries, shipping=None, sub_total="0.15", total="0.18")
    shares: list[Totals] = []
    for _ in range(3):
        shares.append(credit_totals(invoice, shares, lines(("a", "1"))))
    assert [share.tax_total for share in shares] == [Decimal("0.01"), Decimal("0.01"), Decimal("0.01")]
    assert sum(share.total for share in shares) == invoice.total == Decimal("0.18")


@pytest.mark.parametrize(
    ("ask", "refusal"),
    [
        (lines(("1", "3")), "entry 1: 3 asked, 2 left"),
        (lines(("1", "1"), ("1", "2")), "entry 1: 3 asked, 2 left"),  # the same entry twice counts together
        (lines(("9", "1")), "no line with entry ID '9'"),
        (lines(("1", "0")), "the quantity of entry 1 must be positive"),
    ],
)
def test_an_over_credit_names_what_is_left(ask: CreditAsk, refusal: str) -> None:
    invoice = invoice_totals()
    with pytest.raises(OverCredit) as over:
        credit_totals(invoice, [], ask)
    assert refusal in str(over.value)
    assert over.value.left.gross == Decimal("58.76")
    assert dict(over.value.left.quantities) == {"1": Decimal(2), "2": Decimal(1)}


def test_shipping_is_credited_once_and_nothing_is_credited_twice() -> None:
    invoice = invoice_totals()
    shipping = credit_totals(invoice, [], CreditAsk(shipping=True))
    assert (shipping.shipping_net, shipping.total) == (Decimal("4.90"), Decimal("5.83"))  # 4.90 + 0.931 -> 0.93
    with pytest.raises(OverCredit, match="the shipping is credited already"):
        credit_totals(invoice, [shipping], CreditAsk(shipping=True))
    whole = credit_totals(invoice, [shipping], CreditAsk(whole=True))
    with pytest.raises(OverCredit, match="credited in full already"):
        credit_totals(invoice, [shipping, whole], CreditAsk(whole=True))
    with pytest.raises(NothingToCredit):
        credit_totals(invoice, [], CreditAsk())
