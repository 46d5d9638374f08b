from decimal import Decimal

import pytest

from invoicing.money import round_money
from invoicing.recalculation import PriceMismatch, check_order_figures, recalculate
from schemas.orders import parse_order_event
from tests.factories import encoded, order_event


def order(**kwargs: object):  # type: ignore[no-untyped-def]
    return parse_order_event(encoded(order_event("shop", "o-1", **kwargs))).order  # type: ignore[arg-type]


def test_standard_order_figures() -> None:
    totals = recalculate(order())
    assert [line.net for line in totals.lines] == [Decimal("39.98"), Decimal("5.00")]
    assert [(row.rate, row.base, row.tax) for row in totals.taxes] == [
        (Decimal(7), Decimal("5.00"), Decimal("0.35")),
        (Decimal(19), Decimal("44.88"), Decimal("8.53")),
    ]
    assert totals.subtotal == Decimal("44.98")
    assert totals.shipping_net == Decimal("4.90")
    assert totals.total == Decimal("58.76")
    check_order_figures(order(), totals)


def test_discount_and_half_up_rounding() -> None:
    entries = [{"id": "1", "product": {"name": "x"}, "amount": 3, "unitPrice": 0.335, "discount": 0.10, "taxRate": 19}]
    # 3 x 0.335 - 0.10 = 0.905 -> 0.91 (half-up, where banker's rounding would give 0.90); tax 0.1729 -> 0.17
    totals = recalculate(order(entries=entries, shipping=None, sub_total="0.91", total="1.08"))
    assert totals.lines[0].net == Decimal("0.91")
    assert totals.taxes[0].tax == Decimal("0.17")
    assert totals.total == Decimal("1.08")


def test_zero_decimal_currency() -> None:
    assert round_money(Decimal("10.5"), "JPY") == Decimal("11")
    assert round_money(Decimal("1.0005"), "KWD") == Decimal("1.001")


@pytest.mark.parametrize(
    ("field", "sub_total", "total"), [("subTotalPrice", "44.97", "58.76"), ("totalPrice", "44.98", "58.75")]
)
def test_mismatch_by_one_minor_unit_names_both_figures(field: str, sub_total: str, total: str) -> None:
    o = order(sub_total=sub_total, total=total)
    with pytest.raises(PriceMismatch) as raised:
        check_order_figures(o, recalculate(o))
    assert field in str(raised.value)
    assert (sub_total if field == "subTotalPrice" else total) in str(raised.value)


def test_difference_below_a_minor_unit_is_accepted() -> None:
    o = order(total="58.765")
    check_order_figures(o, recalculate(o))


def test_money_parsed_exactly_not_through_float() -> None:
    raw = encoded(order_event("shop", "o-1")).replace(b'"unitPrice": 19.99', b'"unitPrice": 19.990000000000000000001')
    assert parse_order_event(raw).order.entries[0].unitPrice == Decimal("19.990000000000000000001")
