"""Recalculate what an order costs, line by line, and compare it with what the order claims.

line net   = amount x unitPrice - discount, rounded half-up to the currency's minor unit
tax (rate) = (line nets at that rate + shipping at that rate) x rate / 100, rounded half-up
subtotal   = sum of line nets;  total = subtotal + shipping + taxes
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
    entry_id: str | None = None  # the order entry's ID; credit notes name lines by it (None: made before)


@dataclass(frozen=True)
class TaxRow:
    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    currency: str
    lines: tuple[InvoiceLine, ...]
    shipping_net: Decimal
    shipping_tax_rate: Decimal | None
    subtotal: Decimal
    taxes: tuple[TaxRow, ...]
    total: Decimal

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
            entry_id=entry.id,
        )
        for position, entry in enumerate(order.entries, start=1)
    )
    shipping = order.shipping
    if shipping is None:
        return totals_of(currency, lines, ZERO, None)
    return totals_of(currency, lines, round_money(shipping.amount, currency), shipping.taxRate)


def totals_of(
    currency: str, lines: tuple[InvoiceLine, ...], shipping_net: Decimal, shipping_rate: Decimal | None
) -> Totals:
    """Tax per rate over the line nets and shipping, and the totals: the rules of every invoice and credit note."""
    base_by_rate: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        base_by_rate[line.tax_rate] += line.net
    if shipping_rate is not None:
        base_by_rate[shipping_rate] += shipping_net
    taxes = tuple(
        TaxRow(rate=rate, base=base, tax=round_money(base * rate / 100, currency))
        for rate, base in sorted(base_by_rate.items())
    )
    subtotal = sum((line.net for line in lines), ZERO)
    total = subtotal + shipping_net + sum((row.tax for row in taxes), ZERO)
    return Totals(currency, lines, shipping_net, shipping_rate, subtotal, taxes, total)


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
