"""What the invoice says: every string it shows, in the seller's language and locale, as plain data.

Labels come in the document's language (`labels.py`, from the catalogs); numbers, money and dates are
formatted by Babel for the document's locale (invoicing.language.invoice_locale); countries are named
in the document's language. Where the strings go on the page is `layout.py`'s business, how they get into
a PDF `writer.py`'s.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from invoicing.document import Buyer, DocumentKind, InvoiceDocument, PostalAddress, SellerDetails
from invoicing.einvoice import document_legal_notes
from invoicing.recalculation import Totals
from streams.rendering.labels import Labels, labels_for, payment_method_name

Pair = tuple[str, str]  # a label and its value


@dataclass(frozen=True)
class InvoiceContent:
    """Every string the invoice shows, formatted for the document's language and locale."""

    language: str  # BCP 47, for the PDF catalog
    title: str  # "Invoice INV-000042": the metadata title and the header of the pages after the first
    author: str
    subject: str
    heading: str  # "Invoice"
    seller_name: str
    seller_lines: tuple[str, ...]
    sender_line: str  # the seller in one line above the billing address (window envelopes)
    billing_label: str
    billing_lines: tuple[str, ...]
    shipping_label: str
    shipping_lines: tuple[str, ...]  # empty unless the goods go elsewhere
    facts: tuple[Pair, ...]  # invoice number, dates, order
    table_header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # one per line item, then shipping
    sums: tuple[Pair, ...]  # the subtotal, then one row per tax rate
    total: Pair
    legal_notes: tuple[str, ...]  # below the totals: why a line has no VAT (reverse charge, exemption)
    payment: str
    bank: tuple[Pair, ...]
    footer: str
    continued: str
    date_line: str  # "Invoice date 25 Nov 2026", under `continued`
    page_label: str  # with {page} and {pages}

    def strings(self) -> Iterator[str]:
        """Every string of the invoice: the characters the fonts must have come from these."""

        def walk(value: object) -> Iterator[str]:
            if isinstance(value, str):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    yield from walk(item)

        for field in fields(self):
            yield from walk(getattr(self, field.name))


class Formatter:
    """Numbers, money, dates and countries as one document shows them."""

    def __init__(self, locale: Locale, currency: str, territory_names: Locale) -> None:
        self.locale = locale
        self.currency = currency
        self.territory_names = territory_names
        # Babel's formatting is a good part of a long invoice's time, and rates, quantities and prices repeat
        # from line to line: each value is formatted once per document (equal Decimals format alike).
        self.money: Callable[[Decimal], str] = cache(self._money)
        self.price: Callable[[Decimal], str] = cache(self._price)
        self.number: Callable[[Decimal], str] = cache(self._number)
        self.rate: Callable[[Decimal], str] = cache(self._rate)

    def _money(self, amount: Decimal) -> str:
        return format_currency(amount, self.currency, locale=self.locale)

    def _price(self, amount: Decimal) -> str:
        # Unit prices may carry more digits than the currency has (0.125 EUR): those are shown, not rounded.
        return format_currency(amount, self.currency, locale=self.locale, decimal_quantization=False)

    def _number(self, amount: Decimal) -> str:
        return format_decimal(amount, locale=self.locale)

    def _rate(self, percent: Decimal) -> str:
        return format_percent(percent / 100, locale=self.locale, decimal_quantization=False)

    def day(self, value: date | None) -> str:
        return format_date(value, format="medium", locale=self.locale) if value else ""

    def address(self, postal: PostalAddress, names_first: tuple[str, ...] = ()) -> tuple[str, ...]:
        """An address in lines, the country named in the document's language, after any names."""
        country = self.territory_names.territories.get(postal.country, postal.country)
        city = " ".join(part for part in (postal.zip_code, postal.city, postal.state or "") if part)
        return _unique((*names_first, *postal.recipient, postal.street, city, str(country)))


def invoice_content(document: InvoiceDocument) -> InvoiceContent:
    seller, totals = document.seller, document.totals
    labels = labels_for(seller.language)
    formats = Formatter(
        Locale.parse(seller.locale),
        totals.currency,
        Locale.parse(seller.language),
    )
    heading = document_heading(document, labels)
    title = f"{heading} {document.invoice_number}"
    return InvoiceContent(
        language=str(formats.locale).replace("_", "-"),
        title=title,
        author=seller.legal_name,
        subject=f"{title}, {labels['order_number']} {document.order_id}",
        heading=heading,
        seller_name=seller.legal_name,
        seller_lines=seller_lines(seller, labels, formats),
        sender_line=" · ".join((seller.legal_name, *formats.address(seller.address)[:2])),
        billing_label=labels["billing_address"],
        billing_lines=billing_lines(document.buyer, labels, formats),
        shipping_label=labels["shipping_address"],
        shipping_lines=formats.address(document.buyer.shipping_address) if document.buyer.shipping_address else (),
        facts=facts(document, labels, formats),
        table_header=table_header(labels, gross=totals.prices_include_tax),
        rows=line_rows(totals, labels, formats),
        sums=sums(totals, labels, formats),
        total=(labels["total"].format(currency=totals.currency), formats.money(totals.total)),
        legal_notes=document_legal_notes(document),
        payment=payment_note(document, labels, formats),
        bank=bank_details(document, labels),
        footer=seller.footer or "",
        continued=labels["continued"].format(invoice=heading, number=document.invoice_number),
        date_line=f"{number_and_date_labels(document, labels)[1]} {formats.day(document.invoice_date)}",
        page_label=labels["page"],
    )


def document_heading(document: InvoiceDocument, labels: Labels) -> str:
    """ "Invoice", or "Credit note" (German: "Rechnungskorrektur") for a credit note."""
    return labels["credit_note"] if document.kind is DocumentKind.CREDIT_NOTE else labels["invoice"]


def number_and_date_labels(document: InvoiceDocument, labels: Labels) -> tuple[str, str]:
    if document.kind is DocumentKind.CREDIT_NOTE:
        return labels["credit_note_number"], labels["credit_note_date"]
    return labels["invoice_number"], labels["invoice_date"]


def seller_lines(seller: SellerDetails, labels: Labels, formats: Formatter) -> tuple[str, ...]:
    """The seller's address, tax identifiers and contact, under the logo or name."""
    tax_ids = (
        (labels["vat_id"], seller.vat_id),
        (labels["tax_number"], seller.tax_number),
        (labels["legal_registration"], seller.legal_registration_id),
    )
    return (
        *formats.address(seller.address),
        *(f"{label}: {value}" for label, value in tax_ids if value),
        *(value for value in (seller.email, seller.phone) if value),
    )


def billing_lines(buyer: Buyer, labels: Labels, formats: Formatter) -> tuple[str, ...]:
    """The buyer's company and name, billing address and VAT ID (needed for reverse charge)."""
    lines = formats.address(buyer.billing_address, tuple(value for value in (buyer.company, buyer.name) if value))
    return (*lines, f"{labels['vat_id']}: {buyer.vat_id}") if buyer.vat_id else lines


def facts(document: InvoiceDocument, labels: Labels, formats: Formatter) -> tuple[Pair, ...]:
    """Invoice number and date (a credit note: its own, then the invoice it corrects, with that one's date),
    the delivery date when known, the order's number and date."""
    delivery = ((labels["delivery_date"], formats.day(document.delivery_date)),) if document.delivery_date else ()
    number_label, date_label = number_and_date_labels(document, labels)
    preceding = document.preceding_invoice
    corrects = ((labels["corrects"], f"{preceding.number}, {formats.day(preceding.issued_on)}"),) if preceding else ()
    return (
        (number_label, document.invoice_number),
        (date_label, formats.day(document.invoice_date)),
        *corrects,
        *delivery,
        (labels["order_number"], document.order_id),
        (labels["order_date"], formats.day(document.order_date)),
    )


def table_header(labels: Labels, *, gross: bool = False) -> tuple[str, ...]:
    """The column headings of `line_rows`; a gross order's prices and amounts include VAT (B2C)."""
    return (
        labels["position"],
        labels["description"],
        labels["sku"],
        labels["quantity"],
        labels["unit_price_gross"] if gross else labels["unit_price"],
        labels["discount"],
        labels["gross"] if gross else labels["net"],
        labels["tax_rate"],
    )


def line_rows(totals: Totals, labels: Labels, formats: Formatter) -> tuple[tuple[str, ...], ...]:
    """One row per line item in the columns of `table_header`, and shipping as a line of its own."""
    if totals.prices_include_tax:
        return gross_line_rows(totals, labels, formats)
    rows = [
        (
            str(line.position),
            line.description,
            line.sku or "",
            formats.number(line.quantity),
            formats.price(line.unit_price),
            formats.money(line.discount) if line.discount else "",
            formats.money(line.net),
            formats.rate(line.tax_rate),
        )
        for line in totals.lines
    ]
    if totals.shipping_tax_rate is not None:
        shipping_net, shipping_rate = formats.money(totals.shipping_net), formats.rate(totals.shipping_tax_rate)
        rows.append(("", labels["shipping"], "", "", "", "", shipping_net, shipping_rate))
    return tuple(rows)


def gross_line_rows(totals: Totals, labels: Labels, formats: Formatter) -> tuple[tuple[str, ...], ...]:
    """A gross order's rows: the prices, discounts and amounts as the order stated them, VAT included."""
    rows = []
    for line in totals.lines:
        unit_price = line.unit_price if line.gross_unit_price is None else line.gross_unit_price
        amount = line.net if line.gross is None else line.gross
        discount = line.quantity * unit_price - amount  # the order's gross discount (before rounding the line)
        rows.append(
            (
                str(line.position),
                line.description,
                line.sku or "",
                formats.number(line.quantity),
                formats.price(unit_price),
                formats.money(discount) if line.discount else "",
                formats.money(amount),
                formats.rate(line.tax_rate),
            )
        )
    if totals.shipping_tax_rate is not None:
        shipping = totals.shipping_net if totals.shipping_gross is None else totals.shipping_gross
        rows.append(
            ("", labels["shipping"], "", "", "", "", formats.money(shipping), formats.rate(totals.shipping_tax_rate))
        )
    return tuple(rows)


def sums(totals: Totals, labels: Labels, formats: Formatter) -> tuple[Pair, ...]:
    """The subtotal (net, shipping included), then the tax of each rate with its net base; for a gross
    order also each rate's gross (net, tax and gross per rate)."""
    subtotal = (labels["subtotal"], formats.money(totals.subtotal + totals.shipping_net))
    taxes: list[Pair] = []
    for row in totals.taxes:
        rate = formats.rate(row.rate)
        taxes.append((labels["tax_on"].format(rate=rate, base=formats.money(row.base)), formats.money(row.tax)))
        if totals.prices_include_tax:
            taxes.append((labels["gross_at"].format(rate=rate), formats.money(row.base + row.tax)))
    return (subtotal, *taxes)


def payment_note(document: InvoiceDocument, labels: Labels, formats: Formatter) -> str:
    """How it was paid, or what to pay by when; for a credit note, how the amount comes back."""
    payment = document.payment
    if document.preceding_invoice is not None:
        total = formats.money(document.totals.total)
        if payment.paid:
            method = payment_method_name(payment.method or "", document.seller.language)
            return labels["refunded"].format(total=total, method=method)
        return labels["credited"].format(total=total, invoice=document.preceding_invoice.number)
    if payment.paid:
        method = payment_method_name(payment.method or "", document.seller.language)
        return labels["paid"].format(method=method, date=formats.day(payment.paid_on))
    total = formats.money(document.totals.total)
    return labels["due"].format(total=total, date=formats.day(payment.due_on), number=document.invoice_number)


def bank_details(document: InvoiceDocument, labels: Labels) -> tuple[Pair, ...]:
    """Where to pay to, while the invoice is due and the seller has a bank account; unknown details left out."""
    bank = document.seller.bank
    if document.payment.paid or not bank or document.kind is DocumentKind.CREDIT_NOTE:
        return ()
    details = (
        (labels["account_holder"], bank.account_holder),
        (labels["iban"], bank.iban),
        (labels["bic"], bank.bic or ""),
        (labels["bank_name"], bank.bank_name or ""),
        (labels["reference"], document.invoice_number),
    )
    return tuple((label, value) for label, value in details if value)


def _unique(lines: tuple[str, ...]) -> tuple[str, ...]:
    """Non-empty lines, each once: a contact name may appear both as the customer and as recipient."""
    return tuple(dict.fromkeys(line for line in lines if line))
