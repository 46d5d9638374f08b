"""Recalculate what an order costs, line by line, and compare it with what the order claims.

line net   = amount x unitPrice - discount, rounded half-up to the currency's minor unit
tax (category, rate) = (line nets + shipping of that VAT category and rate) x rate / 100, rounded half-up
subtotal   = sum of line nets;  total = subtotal + shipping + taxes

The VAT category is the order's own (taxCategory: S, Z, E, AE, K, G, O) or none; only categories without
VAT share a rate (0 %), so grouping by category changes no amount, it only keeps e.g. a reverse charge
apart from a zero rated line, as EN 16931's VAT breakdown must (invoicing/einvoice).
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from invoicing.money import ZERO, minor_unit, round_money
from invoicing.orders import OrderInput


@dataclass(frozen=True)
class InvoiceLine:
    position: int
    description: str
    sku: str | None
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    net: Decimal
    tax_rate: Decimal
    tax: "TaxChoice | None" = None  # the order's explicit VAT category, else derived by invoicing.einvoice
    entry_id: str | None = None  # the order entry's ID; credit notes name lines by it (None: made before)


@dataclass(frozen=True)
class TaxChoice:
    """What the order says about a line's or the shipping's VAT category (the order contract's taxCategory,
    taxExemptionReason, taxExemptionReasonCode)."""

    category: str  # S, Z, E, AE, K, G, O
    exemption_reason: str | None = None  # BT-120
    exemption_reason_code: str | None = None  # BT-121, a VATEX code


def tax_choice(category: str | None, reason: str | None, code: str | None) -> TaxChoice | None:
    return TaxChoice(category, reason, code) if category else None


@dataclass(frozen=True)
class TaxRow:
    rate: Decimal
    base: Decimal
    tax: Decimal
    category: str | None = None  # the order's explicit category of the row's lines, None when derived


@dataclass(frozen=True)
class Totals:
    currency: str
    lines: tuple[InvoiceLine, ...]
    shipping_net: Decimal
    shipping_tax_rate: Decimal | None
    subtotal: Decimal
    taxes: tuple[TaxRow, ...]
    total: Decimal
    shipping_tax: TaxChoice | None = None

    @property
    def tax_total(self) -> Decimal:
        return sum((row.tax for row in self.taxes), ZERO)


class PriceMismatch(Exception):
    """The order's own figures differ from the recalculation by a minor unit or more."""


def recalculate(order: OrderInput) -> Totals:
    currency = order.currency
    lines = tuple(
        InvoiceLine(
            position=position,
            description=entry.product.name,
            sku=entry.product.sku,
            quantity=entry.amount,
            unit_price=entry.unitPrice,
            discount=entry.discount,
            net=round_money(entry.amount * entry.unitPrice - entry.discount, currency),
            tax_rate=entry.taxRate,
            tax=tax_choice(entry.taxCategory, entry.taxExemptionReason, entry.taxExemptionReasonCode),
            entry_id=entry.id,
        )
        for position, entry in enumerate(order.entries, start=1)
    )
    shipping = order.shipping
    if shipping is None:
        return totals_of(currency, lines, ZERO, None)
    shipping_tax = tax_choice(shipping.taxCategory, shipping.taxExemptionReason, shipping.taxExemptionReasonCode)
    return totals_of(currency, lines, round_money(shipping.amount, currency), shipping.taxRate, shipping_tax)


def totals_of(
    currency: str,
    lines: tuple[InvoiceLine, ...],
    shipping_net: Decimal,
    shipping_rate: Decimal | None,
    shipping_tax: TaxChoice | None = None,
) -> Totals:
    """Tax per VAT category and rate over the line nets and shipping, and the totals: the rules of every
    invoice and credit note."""
    base_by_group: dict[tuple[str | None, Decimal], Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        base_by_group[(line.tax.category if line.tax else None, line.tax_rate)] += line.net
    if shipping_rate is not None:
        base_by_group[(shipping_tax.category if shipping_tax else None, shipping_rate)] += shipping_net
    taxes = tuple(
        TaxRow(rate=rate, base=base, tax=round_money(base * rate / 100, currency), category=category)
        for (category, rate), base in sorted(base_by_group.items(), key=lambda group: (group[0][1], group[0][0] or ""))
    )
    subtotal = sum((line.net for line in lines), ZERO)
    total = subtotal + shipping_net + sum((row.tax for row in taxes), ZERO)
    return Totals(currency, lines, shipping_net, shipping_rate, subtotal, taxes, total, shipping_tax)


def check_order_figures(order: OrderInput, totals: Totals) -> None:
    """Raise PriceMismatch naming both figures when the order's subtotal or total is off by >= a minor unit."""
    unit = minor_unit(order.currency)
    for label, claimed, recalculated in (
        ("subTotalPrice", order.subTotalPrice, totals.subtotal),
        ("totalPrice", order.totalPrice, totals.total),
    ):
        if abs(claimed - recalculated) >= unit:
            raise PriceMismatch(
                f"{label} of the order is {claimed} {order.currency} but the recalculation gives "
                f"{recalculated} {order.currency}"
            )
