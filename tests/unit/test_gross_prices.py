"""Orders stating gross prices (pricesIncludeTax): the tax from the gross sum of each VAT category and rate,
the nets derived so that every EN 16931 sum rule holds exactly. Expected values computed by hand."""

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoicing.money import round_money
from invoicing.recalculation import PriceMismatch, Totals, check_order_figures, recalculate
from schemas.orders import parse_order_event
from tests.factories import encoded, order_event

D = Decimal


def gross_order(entries: list[dict[str, Any]], shipping: dict[str, Any] | None, sub_total: str, total: str) -> Any:
    event = order_event("shop", "o-1", sub_total=sub_total, total=total, entries=entries, shipping=shipping)
    event["order"]["pricesIncludeTax"] = True
    return parse_order_event(json.dumps(event, default=str)).order  # Decimals as strings, read back exactly


def line(id: str, amount: int, price: str, rate: str, discount: str = "0") -> dict[str, Any]:
    return {"id": id, "product": {"name": f"Item {id}"}, "amount": amount, "unitPrice": D(price),
            "taxRate": D(rate), "discount": D(discount)}  # fmt: skip


FRENCH = [
    line("1", 3, "9.99", "20"),
    line("2", 1, "4.99", "20"),
    line("3", 2, "3.35", "5.5"),
    line("4", 1, "12.50", "10"),
]


def test_french_rates_tax_from_the_gross_sum_of_each_rate() -> None:
    totals = recalculate(gross_order(FRENCH, None, "54.16", "54.16"))
    # 20 %: gross 29.97 + 4.99 = 34.96, VAT 34.96 x 20 / 120 = 5.8267 -> 5.83 (per line 4.99 + 0.83 = 5.82),
    # base 29.13; line nets 24.975 -> 24.98 and 4.158 -> 4.16 make 29.14: the largest line gives a cent back.
    # 5.5 %: 6.70 x 5.5 / 105.5 = 0.3493 -> 0.35, base 6.35.  10 %: 12.50 x 10 / 110 = 1.1364 -> 1.14, base 11.36.
    assert [(row.rate, row.base, row.tax) for row in totals.taxes] == [
        (D("5.5"), D("6.35"), D("0.35")),
        (D(10), D("11.36"), D("1.14")),
        (D(20), D("29.13"), D("5.83")),
    ]
    assert [line.net for line in totals.lines] == [D("24.97"), D("4.16"), D("6.35"), D("11.36")]
    assert [line.gross for line in totals.lines] == [D("29.97"), D("4.99"), D("6.70"), D("12.50")]
    assert [line.gross_unit_price for line in totals.lines] == [D("9.99"), D("4.99"), D("3.35"), D("12.50")]
    assert totals.subtotal == D("46.84")
    assert totals.total == D("54.16")
    assert totals.prices_include_tax
    check_order_figures(gross_order(FRENCH, None, "54.16", "54.16"), totals)


def test_german_rates_with_a_discount_and_shipping_taxed_at_its_rate() -> None:
    entries = [line("1", 2, "19.99", "19", discount="2.00"), line("2", 1, "5.35", "7")]
    order = gross_order(entries, {"amount": D("4.95"), "taxRate": 19}, "43.33", "48.28")
    totals = recalculate(order)
    # 19 %: 37.98 + shipping 4.95 = 42.93, VAT 42.93 x 19 / 119 = 6.8544 -> 6.85, base 36.08 = 31.92 + 4.16.
    # 7 %: 5.35 x 7 / 107 = 0.35, base 5.00.
    assert [(row.rate, row.base, row.tax) for row in totals.taxes] == [
        (D(7), D("5.00"), D("0.35")),
        (D(19), D("36.08"), D("6.85")),
    ]
    first = totals.lines[0]
    assert (first.gross, first.net, first.discount, first.unit_price) == (D("37.98"), D("31.92"), D("1.68"), D("16.80"))
    assert (totals.shipping_net, totals.shipping_gross) == (D("4.16"), D("4.95"))
    assert totals.total == D("48.28")
    check_order_figures(order, totals)


def test_the_check_compares_gross_totals() -> None:
    order = gross_order(FRENCH, None, "46.84", "54.16")  # the net subtotal where the gross is stated
    with pytest.raises(
        PriceMismatch, match="subTotalPrice of the order is 46.84 EUR but the recalculation gives 54.16"
    ):
        check_order_figures(order, recalculate(order))
    off = gross_order(FRENCH, None, "54.16", "54.15")
    with pytest.raises(PriceMismatch, match="totalPrice"):
        check_order_figures(off, recalculate(off))


def test_a_net_order_stays_net() -> None:
    net = parse_order_event(encoded(order_event("shop", "o-1"))).order
    assert not net.pricesIncludeTax
    assert recalculate(net).total == D("58.76")


def assert_every_sum_rule(totals: Totals, gross_total: Decimal) -> None:
    lines, unit = totals.lines, D("0.01")
    assert totals.subtotal == sum((line.net for line in lines), D(0))  # BR-CO-10
    for row in totals.taxes:  # BR-S-08 and siblings: base = line nets + charges of the category and rate
        in_group = [line.net for line in lines if line.tax_rate == row.rate]
        shipping = totals.shipping_net if totals.shipping_tax_rate == row.rate else D(0)
        assert row.base == sum(in_group, D(0)) + shipping
        assert abs(row.tax - round_money(row.base * row.rate / 100, "EUR")) <= unit  # BR-CO-17, within a cent
        assert row.tax == round_money((row.base + row.tax) * row.rate / (100 + row.rate), "EUR")  # tax from gross
    assert totals.total == totals.subtotal + totals.shipping_net + totals.tax_total  # BR-CO-13..15
    assert totals.total == gross_total  # the buyer pays what the shop stated
    assert all(line.net >= 0 for line in lines)


RATES = st.sampled_from(["0", "5.5", "7", "10", "19", "20", "21", "25"])
CENTS = st.integers(min_value=0, max_value=50_000).map(lambda cents: D(cents) / 100)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.tuples(st.integers(1, 7), CENTS, RATES), min_size=1, max_size=12),
    shipping=st.none() | st.tuples(CENTS, RATES),
)
def test_every_sum_rule_holds_for_random_gross_lines(
    lines: list[tuple[int, Decimal, str]], shipping: tuple[Decimal, str] | None
) -> None:
    entries = [line(str(i), amount, str(price), rate) for i, (amount, price, rate) in enumerate(lines)]
    gross = sum((amount * price for amount, price, _ in lines), D(0)) + (shipping[0] if shipping else D(0))
    ship = {"amount": shipping[0], "taxRate": D(shipping[1])} if shipping else None
    totals = recalculate(gross_order(entries, ship, "0", str(gross)))
    assert_every_sum_rule(totals, gross)
