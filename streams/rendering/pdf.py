"""Render an invoice document to PDF bytes with borb.

Text is placed on a fixed grid rather than through borb's flowing layout: the line items table needs a
known number of rows per page (to repeat its header and print "Page x of y"), and placing chunks
directly is also the fastest way through borb.
"""

import contextlib
import io
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from borb.pdf import PDF, Chunk, Document, Font, Page, TrueTypeFont, UsageStatistics, X11Color
from fontTools import subset
from fontTools.ttLib import TTFont

from invoicing.document import InvoiceDocument, PostalAddress

Formatter = Callable[[Any], str]
PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 50
BODY_SIZE = 9
ROW_HEIGHT = 14
FIRST_PAGE_ROWS = 24  # the first page also carries the seller, buyer and invoice details
NEXT_PAGE_ROWS = 44
SUMMARY_ROWS = 14  # totals, tax rows and payment need this much room after the last line

LABELS = {
    "en": {
        "invoice": "Invoice",
        "number": "Invoice number",
        "date": "Invoice date",
        "delivery": "Delivery date",
        "order": "Order",
        "vat_id": "VAT ID",
        "tax_number": "Tax number",
        "ship_to": "Ship to",
        "pos": "Pos.",
        "description": "Description",
        "sku": "SKU",
        "qty": "Qty",
        "unit_price": "Unit price",
        "discount": "Discount",
        "net": "Net",
        "tax": "Tax",
        "shipping": "Shipping",
        "subtotal": "Subtotal",
        "tax_on": "VAT {rate} % on {base}",
        "total": "Total",
        "paid": "Paid by {method} on {date}.",
        "due": "Please pay {total} by {date}.",
        "bank": "Bank",
        "page": "Page {page} of {pages}",
    },
    "de": {
        "invoice": "Rechnung",
        "number": "Rechnungsnummer",
        "date": "Rechnungsdatum",
        "delivery": "Lieferdatum",
        "order": "Bestellung",
        "vat_id": "USt-IdNr.",
        "tax_number": "Steuernummer",
        "ship_to": "Lieferanschrift",
        "pos": "Pos.",
        "description": "Beschreibung",
        "sku": "Art.-Nr.",
        "qty": "Menge",
        "unit_price": "Einzelpreis",
        "discount": "Rabatt",
        "net": "Netto",
        "tax": "USt.",
        "shipping": "Versand",
        "subtotal": "Zwischensumme",
        "tax_on": "USt. {rate} % auf {base}",
        "total": "Gesamtbetrag",
        "paid": "Bezahlt per {method} am {date}.",
        "due": "Bitte zahlen Sie {total} bis zum {date}.",
        "bank": "Bank",
        "page": "Seite {page} von {pages}",
    },
}

# (label key, x, width, right-aligned)
COLUMNS = (
    ("pos", MARGIN, 24, False),
    ("description", MARGIN + 26, 170, False),
    ("sku", MARGIN + 198, 62, False),
    ("qty", MARGIN + 262, 36, True),
    ("unit_price", MARGIN + 300, 58, True),
    ("discount", MARGIN + 360, 48, True),
    ("net", MARGIN + 410, 56, True),
    ("tax", MARGIN + 468, 27, True),
)

_prepared = False

# DejaVu Sans covers Latin-1 and Latin Extended ("Łódź", "Zażółć", "€"); Debian's fonts-dejavu-core.
FONT_DIR = Path(os.environ.get("INVOICE_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))


# What invoices need: Latin-1, Latin Extended-A and -B, the euro sign and typographic punctuation.
FONT_UNICODES = [*range(0x20, 0x250), 0x20AC, 0x2013, 0x2014, *range(0x2018, 0x201F), 0x2022, 0x2026, 0x2030]


@dataclass(frozen=True)
class InvoiceFont:
    borb: Font
    advances: dict[str, float]  # width of each character, in 1/1000 of the font size

    def width(self, text: str, size: float) -> float:
        return sum(self.advances.get(char, 500.0) for char in text) * size / 1000


@cache
def font(bold: bool) -> InvoiceFont:
    """Loaded once per process. borb embeds a TrueType font whole (DejaVu Sans: 700 KB in every PDF, and
    seconds to write), so it gets a subset with just the characters above. Widths come from the font's
    own metrics: borb's measurement of this font is wrong, and right-aligned numbers depend on it."""
    source = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if not source.exists():
        raise FileNotFoundError(f"font {source} is missing: install Debian's fonts-dejavu-core or set INVOICE_FONT_DIR")
    subsetter = subset.Subsetter(subset.Options(hinting=False, layout_features=[], name_IDs=["*"]))
    ttf = TTFont(source)
    subsetter.populate(unicodes=FONT_UNICODES)
    subsetter.subset(ttf)
    scale = 1000 / ttf["head"].unitsPerEm
    advances = {chr(code): ttf["hmtx"][glyph][0] * scale for code, glyph in ttf.getBestCmap().items()}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / source.name
        ttf.save(path)
        return InvoiceFont(TrueTypeFont.from_file(path), advances)


def prepare_borb() -> None:
    """Once per process, before the first document: borb otherwise sends usage statistics over the
    network and, on first use, installs its own SIGINT and SIGTERM handlers (only when opted in)."""
    global _prepared
    if not _prepared:
        UsageStatistics.opt_out()
        logging.getLogger("fontTools").setLevel(logging.ERROR)  # "FFTM NOT subset" notes are no news
        _prepared = True


@dataclass
class _Writer:
    page: Page
    size: int = BODY_SIZE

    def text(
        self,
        text: str,
        x: float,
        y: float,
        width: float = 400,
        *,
        right: bool = False,
        size: int | None = None,
        bold: bool = False,
    ) -> None:
        if not text:
            return  # borb cannot lay out an empty chunk
        face, size = font(bold), size or self.size
        if right:
            x += width - face.width(text, size)
        chunk = Chunk(text, font=face.borb, font_size=size, font_color=X11Color.BLACK)
        chunk.paint((round(x), round(y), round(width) + 50, ROW_HEIGHT), self.page)


def _address_lines(address: PostalAddress) -> list[str]:
    return [*address.recipient, address.street, f"{address.zip_code} {address.city}", address.country]


def _pages(lines: int) -> int:
    """Pages for `lines` line items (shipping counts as one) plus the summary after the last one."""
    rows = lines + SUMMARY_ROWS
    if rows <= FIRST_PAGE_ROWS:
        return 1
    return 1 + -(-(rows - FIRST_PAGE_ROWS) // NEXT_PAGE_ROWS)


def _chunks(rows: Sequence[tuple[str, ...]], pages: int) -> Iterator[Sequence[tuple[str, ...]]]:
    start = 0
    for page in range(pages):
        capacity = FIRST_PAGE_ROWS if page == 0 else NEXT_PAGE_ROWS
        yield rows[start : start + capacity]
        start += capacity


def render_invoice_pdf(document: InvoiceDocument) -> bytes:
    prepare_borb()
    seller, totals = document.seller, document.totals
    labels = LABELS.get(seller.language, LABELS["en"])
    locale, currency = seller.locale, totals.currency

    def money(amount: Decimal) -> str:
        return format_currency(amount, currency, locale=locale)

    def number(amount: Decimal) -> str:
        return format_decimal(amount, locale=locale)

    def day(value: date) -> str:
        return format_date(value, format="medium", locale=locale)

    rows: list[tuple[str, ...]] = [
        (
            str(line.position),
            line.description,
            line.sku or "",
            number(line.quantity),
            money(line.unit_price),
            money(line.discount) if line.discount else "",
            money(line.net),
            f"{number(line.tax_rate)} %",
        )
        for line in totals.lines
    ]
    if totals.shipping_tax_rate is not None:
        rows.append(
            (
                "",
                labels["shipping"],
                "",
                "",
                "",
                "",
                money(totals.shipping_net),
                f"{number(totals.shipping_tax_rate)} %",
            )
        )
    pages = _pages(len(rows))

    pdf = Document()
    for index, page_rows in enumerate(_chunks(rows, pages)):
        page = Page(width_in_points=PAGE_WIDTH, height_in_points=PAGE_HEIGHT)
        pdf.append_page(page)
        out = _Writer(page)
        y: float = PAGE_HEIGHT - MARGIN - ROW_HEIGHT
        if index == 0:
            y = _header(out, document, labels, day, y)
        else:
            out.text(f"{labels['invoice']} {document.invoice_number}", MARGIN, y, bold=True)
            y -= ROW_HEIGHT * 2
        for key, x, width, right in COLUMNS:
            out.text(labels[key], x, y, width, right=right, bold=True)
        y -= ROW_HEIGHT
        for row in page_rows:
            for (_, x, width, right), cell in zip(COLUMNS, row, strict=True):
                out.text(cell, x, y, width, right=right)
            y -= ROW_HEIGHT
        if index == pages - 1:
            _summary(out, document, labels, money, number, day, y - ROW_HEIGHT / 2)
        _footer(out, document, labels["page"].format(page=index + 1, pages=pages))

    buffer = io.BytesIO()
    # borb prints a licence reminder to stdout every 64 documents; it belongs in neither stdout nor logs.
    with contextlib.redirect_stdout(io.StringIO()):
        PDF.write(what=pdf, where_to=buffer)
    return buffer.getvalue()


def _header(out: _Writer, document: InvoiceDocument, labels: dict[str, str], day: Formatter, y: float) -> float:
    seller, buyer = document.seller, document.buyer
    out.text(seller.legal_name, MARGIN, y, bold=True, size=12)
    right_x = PAGE_WIDTH - MARGIN - 200
    seller_lines = _address_lines(seller.address)
    if seller.vat_id:
        seller_lines.append(f"{labels['vat_id']}: {seller.vat_id}")
    if seller.tax_number:
        seller_lines.append(f"{labels['tax_number']}: {seller.tax_number}")
    seller_lines += [value for value in (seller.email, seller.phone) if value]
    for offset, line in enumerate(seller_lines, start=1):
        out.text(line, right_x, y - offset * ROW_HEIGHT, 200, right=True)
    y -= ROW_HEIGHT * 3
    buyer_lines = [buyer.name, *([buyer.company] if buyer.company else []), *_address_lines(buyer.billing_address)]
    if buyer.vat_id:
        buyer_lines.append(f"{labels['vat_id']}: {buyer.vat_id}")
    for offset, line in enumerate(buyer_lines):
        out.text(line, MARGIN, y - offset * ROW_HEIGHT, 250)
    if buyer.shipping_address:
        out.text(labels["ship_to"], MARGIN + 260, y, bold=True)
        for offset, line in enumerate(_address_lines(buyer.shipping_address), start=1):
            out.text(line, MARGIN + 260, y - offset * ROW_HEIGHT, 180)
    y -= ROW_HEIGHT * max(len(buyer_lines), len(seller_lines) - 2, 6) + ROW_HEIGHT
    out.text(labels["invoice"], MARGIN, y, size=16, bold=True)
    y -= ROW_HEIGHT * 1.5
    facts = [
        (labels["number"], document.invoice_number),
        (labels["date"], day(document.invoice_date)),
        (labels["order"], f"{document.order_id} ({day(document.order_date)})"),
    ]
    if document.delivery_date:
        facts.append((labels["delivery"], day(document.delivery_date)))
    for label, value in facts:
        out.text(label, MARGIN, y, 120)
        out.text(value, MARGIN + 120, y, 300)
        y -= ROW_HEIGHT
    return y - ROW_HEIGHT


def _summary(
    out: _Writer,
    document: InvoiceDocument,
    labels: dict[str, str],
    money: Formatter,
    number: Formatter,
    day: Formatter,
    y: float,
) -> None:
    totals, payment, seller = document.totals, document.payment, document.seller
    label_x, value_x, width = MARGIN + 260, MARGIN + 410, 85
    rows = [(labels["subtotal"], money(totals.subtotal + totals.shipping_net), False)]
    rows += [
        (labels["tax_on"].format(rate=number(row.rate), base=money(row.base)), money(row.tax), False)
        for row in totals.taxes
    ]
    rows.append((f"{labels['total']} ({totals.currency})", money(totals.total), True))
    for label, value, bold in rows:
        out.text(label, label_x, y, 150, bold=bold)
        out.text(value, value_x, y, width, right=True, bold=bold)
        y -= ROW_HEIGHT
    y -= ROW_HEIGHT
    if payment.paid:
        out.text(labels["paid"].format(method=payment.method or "", date=day(payment.paid_on)), MARGIN, y)
    else:
        out.text(labels["due"].format(total=money(totals.total), date=day(payment.due_on)), MARGIN, y)
        if seller.bank:
            y -= ROW_HEIGHT
            bank = seller.bank
            details = ", ".join(
                v
                for v in (
                    bank.account_holder,
                    f"IBAN {bank.iban}",
                    f"BIC {bank.bic}" if bank.bic else None,
                    bank.bank_name,
                )
                if v
            )
            out.text(f"{labels['bank']}: {details}", MARGIN, y, 495)


def _footer(out: _Writer, document: InvoiceDocument, page_label: str) -> None:
    if document.seller.footer:
        out.text(document.seller.footer, MARGIN, MARGIN - 10, 400, size=7)
    out.text(page_label, PAGE_WIDTH - MARGIN - 100, MARGIN - 10, 100, right=True, size=7)
