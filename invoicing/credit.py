"""Credit notes: what is left to credit on an invoice, and the totals of a credit for some of it.

An issued invoice is never edited; it is corrected by credit notes, each for some of its lines (by
the order entry's ID and a quantity) and/or its shipping, or for all that is left. A credit never
exceeds what is left to credit, per line and in total. Amounts are positive: the document says it is
a credit note. The totals follow the invoice's own rules (`totals_of`: tax per rate, half-up to the
currency's minor unit); the credit that takes the last of a line, or of the whole invoice, takes
exactly what is left, so the credit notes of an invoice add up to it to the cent.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from invoicing.money import ZERO, round_money
from invoicing.recalculation import InvoiceLine, TaxRow, Totals, totals_of


@dataclass(frozen=True)
class CreditedQuantity:
    entry_id: str
    quantity: Decimal


@dataclass(frozen=True)
class CreditAsk:
    """What a credit note is asked for: everything left (`whole`), or these lines and/or the shipping."""

    whole: bool = False
    lines: tuple[CreditedQuantity, ...] = ()
    shipping: bool = False


@dataclass(frozen=True)
class LeftToCredit:
    quantities: Mapping[str, Decimal]  # by entry ID
    shipping_net: Decimal  # the shipping's net, until it is credited; then zero
    gross: Decimal
    currency: str

    @property
    def nothing(self) -> bool:
        return self.gross <= ZERO and not any(self.quantities.values()) and not self.shipping_net

    def describe(self) -> str:
        lines = ", ".join(f"entry {entry}: {quantity}" for entry, quantity in self.quantities.items())
        shipping = f"shipping {self.shipping_net} {self.currency} net" if self.shipping_net else "no shipping"
        return f"left to credit: {lines or 'no lines'}; {shipping}; {self.gross} {self.currency} gross"


class OverCredit(Exception):
    """The credit asked for is more than is left to credit; `left` says what is."""

    def __init__(self, message: str, left: LeftToCredit) -> None:
        super().__init__(f"{message}; {left.describe()}")
        self.left = left


class NothingToCredit(Exception):
    """The ask names no line and no shipping."""


def entry_id_of(line: InvoiceLine) -> str:
    """Lines of invoices made before entry IDs were kept are named by their position."""
    return line.entry_id or str(line.position)


def left_to_credit(invoice: Totals, credited: Sequence[Totals]) -> LeftToCredit:
    used: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for note in credited:
        for line in note.lines:
            used[entry_id_of(line)] += line.quantity
    shipping_credited = any(note.shipping_tax_rate is not None for note in credited)
    return LeftToCredit(
        quantities={entry_id_of(line): line.quantity - used[entry_id_of(line)] for line in invoice.lines},
        shipping_net=ZERO if shipping_credited or invoice.shipping_tax_rate is None else invoice.shipping_net,
        gross=invoice.total - sum((note.total for note in credited), ZERO),
        currency=invoice.currency,
    )


def fully_credited(invoice: Totals, credited: Sequence[Totals]) -> bool:
    """Whether the credit notes so far leave nothing of the invoice to credit: every line and the shipping
    credited in full. Only then may its order be invoiced again (by a new, explicit job)."""
    return left_to_credit(invoice, credited).nothing


def credit_totals(invoice: Totals, credited: Sequence[Totals], ask: CreditAsk) -> Totals:
    """The totals of a credit note for `ask`, given the invoice and its credit notes so far. Raises
    OverCredit when the ask is more than is left, NothingToCredit when it names nothing (or nothing is left)."""
    left = left_to_credit(invoice, credited)
    currency = invoice.currency
    asked = _asked_quantities(ask, left)
    credit_shipping = (ask.whole and left.shipping_net > ZERO) or ask.shipping
    if not asked and not credit_shipping:
        if ask.whole:
            raise OverCredit("the invoice is credited in full already", left)
        raise NothingToCredit("name at least one line or the shipping")
    if ask.shipping and not left.shipping_net and invoice.shipping_tax_rate is not None:
        raise OverCredit("the shipping is credited already", left)
    if ask.shipping and invoice.shipping_tax_rate is None:
        raise OverCredit("the invoice has no shipping", left)
    lines = tuple(
        _credited_line(line, asked[entry_id_of(line)], left.quantities[entry_id_of(line)], credited, currency)
        for line in invoice.lines
        if entry_id_of(line) in asked
    )
    shipping_rate = invoice.shipping_tax_rate if credit_shipping else None
    shipping_tax = invoice.shipping_tax if credit_shipping else None
    totals = totals_of(currency, lines, left.shipping_net if credit_shipping else ZERO, shipping_rate, shipping_tax)
    if _completes(left, asked, credit_shipping):
        totals = _residual_taxes(invoice, credited, totals)
    if totals.total > left.gross:
        raise OverCredit(f"the credit of {totals.total} {currency} is more than is left", left)
    return totals


def _asked_quantities(ask: CreditAsk, left: LeftToCredit) -> dict[str, Decimal]:
    if ask.whole:
        return {entry: quantity for entry, quantity in left.quantities.items() if quantity > ZERO}
    asked: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in ask.lines:
        if line.entry_id not in left.quantities:
            raise OverCredit(f"the invoice has no line with entry ID {line.entry_id!r}", left)
        if line.quantity <= ZERO:
            raise OverCredit(f"the quantity of entry {line.entry_id} must be positive", left)
        asked[line.entry_id] += line.quantity
    for entry, quantity in asked.items():
        if quantity > left.quantities[entry]:
            raise OverCredit(f"entry {entry}: {quantity} asked, {left.quantities[entry]} left", left)
    return dict(asked)


def _credited_line(
    line: InvoiceLine, quantity: Decimal, left: Decimal, credited: Sequence[Totals], currency: str
) -> InvoiceLine:
    """The line's share for `quantity`; the last share is what is left of its net and discount."""
    if quantity == left:
        shares = [share for note in credited for share in note.lines if entry_id_of(share) == entry_id_of(line)]
        net = line.net - sum((share.net for share in shares), ZERO)
        discount = line.discount - sum((share.discount for share in shares), ZERO)
    else:
        net = round_money(line.net * quantity / line.quantity, currency)
        discount = round_money(line.discount * quantity / line.quantity, currency)
    # A credit note states net figures, also for a gross invoice: the invoice line's gross amounts are not its.
    return replace(line, quantity=quantity, net=net, discount=discount, gross=None, gross_unit_price=None)


def _completes(left: LeftToCredit, asked: Mapping[str, Decimal], shipping: bool) -> bool:
    lines_done = all(asked.get(entry, ZERO) == quantity for entry, quantity in left.quantities.items())
    return lines_done and (shipping or not left.shipping_net)


def _residual_taxes(invoice: Totals, credited: Sequence[Totals], totals: Totals) -> Totals:
    """The last credit note takes the tax left at each VAT category and rate, so all of them add up to the invoice."""
    taxes = tuple(
        replace(row, tax=_tax_at(invoice, row) - sum((_tax_at(note, row) for note in credited), ZERO))
        for row in totals.taxes
    )
    total = totals.subtotal + totals.shipping_net + sum((row.tax for row in taxes), ZERO)
    return replace(totals, taxes=taxes, total=total)


def _tax_at(totals: Totals, group: TaxRow) -> Decimal:
    return sum((row.tax for row in totals.taxes if (row.category, row.rate) == (group.category, group.rate)), ZERO)
