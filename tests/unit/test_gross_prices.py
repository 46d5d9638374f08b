"""Orders stating gross prices (pricesIncludeTax): the tax from the gross sum of each VAT category and rate,
the nets derived so that every EN 16931 sum rule holds exactly. Expected values computed by hand."""

import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from pypdf import PdfReader

from invoicing.credit import CreditAsk, CreditedQuantity, credit_totals
from invoicing.document import DEFAULT_SELLER, build_invoice_document
from invoicing.einvoice import EInvoiceFormat, einvoice_xml
from invoicing.money import round_money
from invoicing.recalculation import PriceMismatch, Totals, check_order_figures, recalculate
from schemas.orders import parse_order_event
from streams.rendering.pdf import render_invoice_pdf
from tests.einvoice_cases import PEPPOL_SETTINGS, SETTINGS, cases
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
    stated = gross_order(FRENCH, None, "54.16", "54.16")
    check_order_figures(stated, recalculate(stated))  # the gross figures as the shop stated them pass
    order = gross_order(FRENCH, None, "46.84", "54.16")  # the net subtotal where the gross is stated
    with pytest.raises(
        PriceMismatch, match=r"subTotalPrice of the order is 46\.84 EUR but the recalculation gives 54\.16"
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


def test_the_pdf_of_a_gross_order_shows_gross_unit_prices_and_net_tax_gross_per_rate() -> None:
    order = gross_order(FRENCH, {"amount": D("4.90"), "taxRate": 20}, "54.16", "59.06")
    totals = recalculate(order)
    document = build_invoice_document(
        order=order,
        tenant="shop",
        totals=totals,
        invoice_number="INV-1",
        issued_at=datetime(2026, 11, 25, 9, tzinfo=UTC),
        seller=DEFAULT_SELLER,
    )
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(render_invoice_pdf(document))).pages)
    text = " ".join(text.split())
    assert "Gross price" in text and "Unit price" not in text
    # the gross unit prices and line amounts as the order stated them, shipping gross
    for shown in ("€9.99", "€29.97", "€3.35", "€6.70", "€12.50", "€4.90"):
        assert shown in text
    assert "€8.33" not in text  # not the net unit price (9.99 / 1.2)
    # 20 %: gross 34.96 + 4.90 = 39.86, VAT 6.64, net 33.22; 10 %: 11.36 + 1.14 = 12.50; 5.5 %: 6.35 + 0.35 = 6.70
    for net, tax, gross, rate in (
        ("33.22", "6.64", "39.86", "20%"),
        ("11.36", "1.14", "12.50", "10%"),
        ("6.35", "0.35", "6.70", "5.5%"),
    ):
        assert f"VAT {rate} on €{net} €{tax}" in text
        assert f"Gross at {rate} €{gross}" in text
    assert "€59.06" in text


@pytest.mark.parametrize("fmt", list(EInvoiceFormat), ids=str)
def test_every_xml_format_states_the_tax_from_the_gross(fmt: EInvoiceFormat) -> None:
    # 19 %: 37.98 + 4.95 = 42.93 -> VAT 6.85 on 36.08, where 36.08 x 19 % would be 6.86 (BR-CO-17 allows it)
    case = next(case for case in cases() if case.name == "gross-discount-shipping")
    settings_ = PEPPOL_SETTINGS if fmt is EInvoiceFormat.PEPPOL else SETTINGS
    facts = case.peppol_facts() if fmt is EInvoiceFormat.PEPPOL else case.facts
    xml = etree.fromstring(einvoice_xml(case.document, settings_, fmt, facts))
    amounts = {
        element.text for element in xml.iter() if etree.QName(element).localname in {"TaxAmount", "CalculatedAmount"}
    }
    assert {"6.85", "0.99"} <= amounts and "6.86" not in amounts


def test_credit_notes_of_a_gross_invoice_add_up_to_it_and_carry_no_stale_gross() -> None:
    invoice = recalculate(gross_order(FRENCH, None, "54.16", "54.16"))
    one_cup = credit_totals(invoice, [], CreditAsk(lines=(CreditedQuantity("1", D(1)),)))
    # a third of line 1's net 24.97 is 8.32, VAT 20 % 1.66
    assert (one_cup.subtotal, one_cup.tax_total, one_cup.total) == (D("8.32"), D("1.66"), D("9.98"))
    assert one_cup.lines[0].gross is None and not one_cup.prices_include_tax
    rest = credit_totals(invoice, [one_cup], CreditAsk(whole=True))
    assert one_cup.total + rest.total == invoice.total
    assert [row.tax for row in rest.taxes] == [D("0.35"), D("1.14"), D("4.17")]  # 5.83 - 1.66 at 20 %
