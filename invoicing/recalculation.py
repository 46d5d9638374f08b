"""Recalculate what an order costs, line by line, and compare it with what the order claims.

line net   = amount x unitPrice - discount, rounded half-up to the currency's minor unit
tax (category, rate) = (line nets + shipping of that VAT category and rate) x rate / 100, rounded half-up
subtotal   = sum of line nets;  total = subtotal + shipping + taxes

The VAT category is the order's own (taxCategory: S, Z, E, AE, K, G, O) or none; only categories without
VAT share a rate (0 %), so grouping by category changes no amount, it only keeps e.g. a reverse charge
apart from a zero rated line, as EN 16931's VAT breakdown must (invoicing/einvoice).

An order with pricesIncludeTax states gross prices (B2C); then, per VAT category and rate (EN 16931):
line gross = amount x unitPrice - discount, rounded;  gross (category, rate) = line grosses + shipping
tax = gross x rate / (100 + rate), rounded half-up;  base = gross - tax
and the line nets (and the shipping's net) are the base shared out by gross, each cent once, so every sum
rule of the e-invoice (BR-CO-10..16, BR-S-08 and its siblings) holds exactly and BR-CO-17 within its tolerance.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

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
    # A gross order's own figures (pricesIncludeTax): unit_price, discount and net above are then derived.
    gross_unit_price: Decimal | None = None
    gross: Decimal | None = None  # amount x gross unit price - gross discount, rounded


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
    prices_include_tax: bool = False  # the order stated gross prices: the PDF shows them
    shipping_gross: Decimal | None = None  # a gross order's shipping as stated

    @property
    def gross_subtotal(self) -> Decimal:
        """The lines' gross amounts: what a gross order's subTotalPrice states."""
        return sum((line.net if line.gross is None else line.gross for line in self.lines), ZERO)

    @property
    def tax_total(self) -> Decimal:
        return sum((row.tax for row in self.taxes), ZERO)


class PriceMismatch(Exception):
    """The order's own figures differ from the recalculation by a minor unit or more."""


def recalculate(order: OrderInput) -> Totals:
    if order.pricesIncludeTax:
        return recalculate_gross(order)
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
    *,
    group_gross: Mapping[tuple[str | None, Decimal], Decimal] | None = None,
) -> Totals:
    """Tax per VAT category and rate over the line nets and shipping, and the totals: the rules of every
    invoice and credit note. With `group_gross` (a gross order's invoice: the gross sum per category and rate) each
    tax is that gross less the base (recalculate_gross made the nets add up to gross less the VAT within it)."""
    base_by_group: dict[tuple[str | None, Decimal], Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        base_by_group[(line.tax.category if line.tax else None, line.tax_rate)] += line.net
    if shipping_rate is not None:
        base_by_group[(shipping_tax.category if shipping_tax else None, shipping_rate)] += shipping_net

    def tax_of(group: tuple[str | None, Decimal], base: Decimal) -> Decimal:
        if group_gross is not None:  # the VAT within the gross, whose net the base is
            return group_gross[group] - base
        return round_money(base * group[1] / 100, currency)

    taxes = tuple(
        TaxRow(rate=rate, base=base, tax=tax_of((category, rate), base), category=category)
        for (category, rate), base in sorted(base_by_group.items(), key=lambda group: (group[0][1], group[0][0] or ""))
    )

    subtotal = sum((line.net for line in lines), ZERO)
    total = subtotal + shipping_net + sum((row.tax for row in taxes), ZERO)
    return Totals(currency, lines, shipping_net, shipping_rate, subtotal, taxes, total, shipping_tax)


def recalculate_gross(order: OrderInput) -> Totals:
    """The totals of an order stating gross prices: tax from the gross sum of each VAT category and rate."""
    currency = order.currency
    unit = minor_unit(currency)
    entries = order.entries
    grosses = [round_money(entry.amount * entry.unitPrice - entry.discount, currency) for entry in entries]
    choices = [tax_choice(e.taxCategory, e.taxExemptionReason, e.taxExemptionReasonCode) for e in entries]
    # Items of each VAT group: (index, gross); the shipping is index -1.
    groups: dict[tuple[str | None, Decimal], list[tuple[int, Decimal]]] = defaultdict(list)
    for index, (entry, gross, choice) in enumerate(zip(entries, grosses, choices, strict=True)):
        groups[(choice.category if choice else None, entry.taxRate)].append((index, gross))
    shipping, shipping_tax = order.shipping, None
    shipping_gross = round_money(shipping.amount, currency) if shipping is not None else ZERO
    if shipping is not None:
        shipping_tax = tax_choice(shipping.taxCategory, shipping.taxExemptionReason, shipping.taxExemptionReasonCode)
        groups[(shipping_tax.category if shipping_tax else None, shipping.taxRate)].append((-1, shipping_gross))
    nets: dict[int, Decimal] = {}
    for (_, rate), items in groups.items():
        nets.update(_shared_base(items, rate, currency, unit))
    group_gross = {group: sum((amount for _, amount in items), ZERO) for group, items in groups.items()}
    lines = tuple(
        InvoiceLine(
            position=index + 1,
            description=entry.product.name,
            sku=entry.product.sku,
            quantity=entry.amount,
            unit_price=_net_unit_price(nets[index] + _net_of(entry.discount, entry.taxRate, currency), entry.amount),
            discount=_net_of(entry.discount, entry.taxRate, currency),
            net=nets[index],
            tax_rate=entry.taxRate,
            tax=choices[index],
            entry_id=entry.id,
            gross_unit_price=entry.unitPrice,
            gross=grosses[index],
        )
        for index, entry in enumerate(entries)
    )
    shipping_rate = shipping.taxRate if shipping is not None else None
    totals = totals_of(currency, lines, nets.get(-1, ZERO), shipping_rate, shipping_tax, group_gross=group_gross)
    return replace(totals, prices_include_tax=True, shipping_gross=shipping_gross if shipping is not None else None)


def gross_tax(gross: Decimal, rate: Decimal, currency: str) -> Decimal:
    """The VAT within a gross amount: gross x rate / (100 + rate), rounded half-up."""
    return round_money(gross * rate / (100 + rate), currency)


def _net_of(gross: Decimal, rate: Decimal, currency: str) -> Decimal:
    return round_money(gross * 100 / (100 + rate), currency)


def _net_unit_price(net_before_discount: Decimal, quantity: Decimal) -> Decimal:
    # Six decimals: quantity x price stays within Peppol's 0.02 slack (PEPPOL-EN16931-R120) for any
    # realistic quantity; the line net itself is exact.
    return (net_before_discount / quantity).quantize(NET_PRICE_PLACES, rounding=ROUND_HALF_UP)


NET_PRICE_PLACES = Decimal("0.000001")


def _shared_base(items: list[tuple[int, Decimal]], rate: Decimal, currency: str, unit: Decimal) -> dict[int, Decimal]:
    """The group's net base (gross - tax from gross) shared out over its items: each item's own net rounded,
    the cents the rounding left over (at most one per item) given to the largest items first."""
    gross = sum((amount for _, amount in items), ZERO)
    base = gross - gross_tax(gross, rate, currency)
    nets = {index: _net_of(amount, rate, currency) for index, amount in items}
    left = base - sum(nets.values(), ZERO)
    step = unit if left > 0 else -unit
    by_size = sorted(items, key=lambda item: item[1], reverse=True)
    position = 0
    while left != 0:
        index = by_size[position % len(by_size)][0]
        nets[index] += step
        left -= step
        position += 1
    return nets


def check_order_figures(order: OrderInput, totals: Totals) -> None:
    """Raise PriceMismatch naming both figures when the order's subtotal or total is off by >= a minor unit."""
    unit = minor_unit(order.currency)
    for label, claimed, recalculated in (
        # A gross order's subTotalPrice is its lines' gross sum, as it stated them.
        ("subTotalPrice", order.subTotalPrice, totals.gross_subtotal if totals.prices_include_tax else totals.subtotal),
        ("totalPrice", order.totalPrice, totals.total),
    ):
        if abs(claimed - recalculated) >= unit:
            raise PriceMismatch(
                f"{label} of the order is {claimed} {order.currency} but the recalculation gives "
                f"{recalculated} {order.currency}"
            )
