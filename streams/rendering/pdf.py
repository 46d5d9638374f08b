"""Render an invoice document to PDF bytes with borb.

borb holds the document (pages, resources, metadata) and writes the file; the page content is drawn
straight into each page's content stream. borb's layout elements measured every piece of text with a
linear search through the font's width table, which took ~90 % of the time (docs/invoice-pdf.md has
the profile), so the renderer measures text with the font's own metrics and places it itself.

Two steps: `invoice_content` decides every string the invoice shows (Babel formats numbers, money and
dates for the seller's locale; labels come in the seller's language), and `render_invoice_pdf` places
them: a header, the line items table continued over as many pages as it needs with its header repeated
on each, the totals and payment after the last line, and a footer with "Page x of y" on every page.
"""

import contextlib
import io
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from borb.pdf import PDF, Document, Page, UsageStatistics
from borb.pdf.primitives import hexstr, name, stream

from invoicing.document import InvoiceDocument, PostalAddress
from streams.rendering.fonts import EmbeddedFont, font_for
from streams.rendering.images import Logo, UnsupportedImage, logo_image
from streams.rendering.labels import Labels, labels_for, payment_method_name

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
LEFT, RIGHT = 50.0, 545.0  # text margins
TOP = 800.0  # the top of the page header
LEADING = 10.5  # baseline to baseline in body text
TABLE_HEADER_HEIGHT = 15.0
HEADER_LEFT_WIDTH = 250.0  # the logo or the seller's name
HEADER_RIGHT_WIDTH = 235.0  # the seller's details, right-aligned
SENDER_WIDTH = 285.0  # the sender line over the billing address
LOGO_BOX = (170.0, 56.0)  # the most the logo may take on the first page (width, height)
SMALL_LOGO_BOX = (120.0, 30.0)  # and on the pages after it
CONTINUED_TABLE_TOP = TOP - SMALL_LOGO_BOX[1] - 14  # where the table starts on the pages after the first
SUM_LEADING = 12.0  # the subtotal and tax rows
SUM_LABEL_X = 310.0  # where their labels start; the amounts end at RIGHT
CREATOR = "invoice-service"

logger = logging.getLogger(__name__)

_prepared = False


def prepare_borb() -> None:
    """Once per process, before the first document: borb otherwise sends usage statistics over the
    network and, on first use, installs its own SIGINT and SIGTERM handlers (only when opted in)."""
    global _prepared
    if not _prepared:
        UsageStatistics.opt_out()
        logging.getLogger("fontTools").setLevel(logging.ERROR)  # "FFTM NOT subset" notes are no news
        _prepared = True


def warm_up() -> None:
    """For a render process's start: borb prepared and the base font subsets made (~0.5 s) before the
    first invoice arrives rather than while it waits."""
    prepare_borb()
    for bold in (False, True):
        font_for(bold, "")


@dataclass(frozen=True)
class Style:
    size: float
    bold: bool = False
    grey: float = 0.0  # 0 is black, 1 white


BODY = Style(8.5)
BODY_BOLD = Style(8.5, bold=True)
DETAIL = Style(7.5, grey=0.2)  # seller details, fact labels
LABEL = Style(7, bold=True, grey=0.45)  # "Billing address" above a block
SMALL = Style(6.5, grey=0.4)  # the sender line, the footer
HEADING = Style(7.5, bold=True)  # the table header
TITLE = Style(16, bold=True)
SELLER = Style(13, bold=True)
TOTAL = Style(10, bold=True)


@dataclass(frozen=True)
class Column:
    x: float  # left edge
    width: float
    right: bool  # right-aligned (numbers)
    wraps: bool  # long text wraps onto more lines; numbers shrink to fit instead

    @property
    def end(self) -> float:
        return self.x + self.width


# Position, description, SKU, quantity, unit price, discount, net amount, tax rate.
COLUMNS = (
    Column(LEFT, 18, right=False, wraps=False),
    Column(72, 145, right=False, wraps=True),
    Column(221, 66, right=False, wraps=True),
    Column(291, 30, right=True, wraps=False),
    Column(327, 58, right=True, wraps=False),
    Column(391, 48, right=True, wraps=False),
    Column(445, 60, right=True, wraps=False),
    Column(511, 34, right=True, wraps=False),
)


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
    facts: tuple[tuple[str, str], ...]  # invoice number, dates, order
    table_header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # one per line item, then shipping
    sums: tuple[tuple[str, str], ...]  # the subtotal, then one row per tax rate
    total: tuple[str, str]
    payment: str
    bank: tuple[tuple[str, str], ...]
    footer: str
    continued: str
    date_line: str  # "Invoice date 25 Nov 2026", under `continued`
    page_label: str  # with {page} and {pages}

    def strings(self) -> Iterator[str]:
        def walk(value: object) -> Iterator[str]:
            if isinstance(value, str):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    yield from walk(item)

        for field in fields(self):
            yield from walk(getattr(self, field.name))


def invoice_content(document: InvoiceDocument) -> InvoiceContent:
    seller, buyer, totals, payment = document.seller, document.buyer, document.totals, document.payment
    labels: Labels = labels_for(seller.language)
    locale = Locale.parse(seller.locale)
    names = Locale.parse(seller.language if seller.language in ("en", "de") else "en")
    currency = totals.currency

    # Babel's formatting is a good part of a long invoice's time, and rates, quantities and prices repeat
    # from line to line: each value is formatted once per document (equal Decimals format alike).
    @cache
    def money(amount: Decimal) -> str:
        return format_currency(amount, currency, locale=locale)

    @cache
    def price(amount: Decimal) -> str:
        # Unit prices may carry more digits than the currency has (0.125 EUR): those are shown, not rounded.
        return format_currency(amount, currency, locale=locale, decimal_quantization=False)

    @cache
    def number(amount: Decimal) -> str:
        return format_decimal(amount, locale=locale)

    @cache
    def rate(percent: Decimal) -> str:
        return format_percent(percent / 100, locale=locale, decimal_quantization=False)

    def day(value: date | None) -> str:
        return format_date(value, format="medium", locale=locale) if value else ""

    def address(postal: PostalAddress, names_first: tuple[str, ...] = ()) -> tuple[str, ...]:
        country = names.territories.get(postal.country, postal.country)
        city = " ".join(part for part in (postal.zip_code, postal.city, postal.state or "") if part)
        return _unique((*names_first, *postal.recipient, postal.street, city, str(country)))

    seller_lines = address(seller.address)
    seller_lines += tuple(
        f"{label}: {value}"
        for label, value in ((labels["vat_id"], seller.vat_id), (labels["tax_number"], seller.tax_number))
        if value
    )
    seller_lines += tuple(value for value in (seller.email, seller.phone) if value)
    billing_lines = address(buyer.billing_address, tuple(v for v in (buyer.company, buyer.name) if v))
    if buyer.vat_id:
        billing_lines += (f"{labels['vat_id']}: {buyer.vat_id}",)
    shipping_lines = address(buyer.shipping_address) if buyer.shipping_address else ()

    facts = [
        (labels["invoice_number"], document.invoice_number),
        (labels["invoice_date"], day(document.invoice_date)),
    ]
    if document.delivery_date:
        facts.append((labels["delivery_date"], day(document.delivery_date)))
    facts += [(labels["order_number"], document.order_id), (labels["order_date"], day(document.order_date))]

    rows = [
        (
            str(line.position),
            line.description,
            line.sku or "",
            number(line.quantity),
            price(line.unit_price),
            money(line.discount) if line.discount else "",
            money(line.net),
            rate(line.tax_rate),
        )
        for line in totals.lines
    ]
    if totals.shipping_tax_rate is not None:
        rows.append(
            ("", labels["shipping"], "", "", "", "", money(totals.shipping_net), rate(totals.shipping_tax_rate))
        )

    sums = [(labels["subtotal"], money(totals.subtotal + totals.shipping_net))]
    sums += [
        (labels["tax_on"].format(rate=rate(row.rate), base=money(row.base)), money(row.tax)) for row in totals.taxes
    ]
    bank: list[tuple[str, str]] = []
    if payment.paid:
        method = payment_method_name(payment.method or "", seller.language)
        payment_text = labels["paid"].format(method=method, date=day(payment.paid_on))
    else:
        payment_text = labels["due"].format(
            total=money(totals.total), date=day(payment.due_on), number=document.invoice_number
        )
        if seller.bank:
            bank = [
                (labels["account_holder"], seller.bank.account_holder),
                (labels["iban"], seller.bank.iban),
                (labels["bic"], seller.bank.bic or ""),
                (labels["bank_name"], seller.bank.bank_name or ""),
                (labels["reference"], document.invoice_number),
            ]
    title = f"{labels['invoice']} {document.invoice_number}"
    return InvoiceContent(
        language=str(locale).replace("_", "-"),
        title=title,
        author=seller.legal_name,
        subject=f"{title}, {labels['order_number']} {document.order_id}",
        heading=labels["invoice"],
        seller_name=seller.legal_name,
        seller_lines=seller_lines,
        sender_line=" · ".join((seller.legal_name, *address(seller.address)[:2])),
        billing_label=labels["billing_address"],
        billing_lines=billing_lines,
        shipping_label=labels["shipping_address"],
        shipping_lines=shipping_lines,
        facts=tuple(facts),
        table_header=(
            labels["position"],
            labels["description"],
            labels["sku"],
            labels["quantity"],
            labels["unit_price"],
            labels["discount"],
            labels["net"],
            labels["tax_rate"],
        ),
        rows=tuple(rows),
        sums=tuple(sums),
        total=(labels["total"].format(currency=currency), money(totals.total)),
        payment=payment_text,
        bank=tuple((label, value) for label, value in bank if value),
        footer=seller.footer or "",
        continued=labels["continued"].format(invoice=labels["invoice"], number=document.invoice_number),
        date_line=f"{labels['invoice_date']} {day(document.invoice_date)}",
        page_label=labels["page"],
    )


def _unique(lines: tuple[str, ...]) -> tuple[str, ...]:
    """Non-empty lines, each once: a contact name may appear both as the customer and as recipient."""
    return tuple(dict.fromkeys(line for line in lines if line))


@dataclass(frozen=True)
class Fonts:
    regular: EmbeddedFont
    bold: EmbeddedFont

    def face(self, style: Style) -> EmbeddedFont:
        return self.bold if style.bold else self.regular

    def width(self, text: str, style: Style) -> float:
        return self.face(style).width(text, style.size)

    def wrap(self, text: str, style: Style, width: float) -> list[str]:
        """`text` in lines no wider than `width`: broken at spaces, and inside words too long for a line."""
        if self.width(text, style) <= width and "\n" not in text:
            return [text]
        lines: list[str] = []
        for paragraph in text.splitlines():
            line = ""
            for word in paragraph.split(" "):
                candidate = f"{line} {word}" if line else word
                if self.width(candidate, style) <= width:
                    line = candidate
                    continue
                if line:
                    lines.append(line)
                while len(word) > 1 and self.width(word, style) > width:
                    cut = len(word) - 1
                    while cut > 1 and self.width(word[:cut], style) > width:
                        cut -= 1
                    hyphen = max(word.rfind("-", 0, cut), word.rfind("/", 0, cut))
                    if hyphen > 0:  # "COFFEE-HUILA-" rather than "COFFEE-HUI"
                        cut = hyphen + 1
                    lines.append(word[:cut])
                    word = word[cut:]
                line = word
            lines.append(line)
        return lines


class Canvas:
    """One page's content stream, written directly: text runs, rules, shaded bands and the logo.

    Text goes in reading order (row by row, left to right), which is the order text extraction returns.
    """

    def __init__(self, fonts: Fonts) -> None:
        self.fonts = fonts
        # Characters written with the regular and with the bold face: each font's width table lists only these.
        self.characters: dict[bool, set[str]] = {False: set(), True: set()}
        self._parts: list[str] = []

    def text(self, text: str, x: float, y: float, style: Style) -> None:
        if text:
            glyphs = self.fonts.face(style).encode(text)
            self.characters[style.bold].update(text)
            font = "F2" if style.bold else "F1"
            self._parts.append(f"BT /{font} {style.size:g} Tf {style.grey:g} g {x:.2f} {y:.2f} Td <{glyphs}> Tj ET\n")

    def text_right(self, text: str, right: float, y: float, style: Style) -> None:
        self.text(text, right - self.fonts.width(text, style), y, style)

    def rule(self, x1: float, x2: float, y: float, width: float = 0.4, grey: float = 0.75) -> None:
        self._parts.append(f"{grey:g} G {width:g} w {x1:.2f} {y:.2f} m {x2:.2f} {y:.2f} l S\n")

    def band(self, x: float, y: float, width: float, height: float, grey: float) -> None:
        self._parts.append(f"{grey:g} g {x:.2f} {y:.2f} {width:.2f} {height:.2f} re f\n")

    def image(self, x: float, y: float, width: float, height: float) -> None:
        self._parts.append(f"q {width:.2f} 0 0 {height:.2f} {x:.2f} {y:.2f} cm /Logo Do Q\n")

    def content(self) -> bytes:
        return "".join(self._parts).encode("ascii")


@dataclass(frozen=True)
class TableRow:
    lines: tuple[tuple[str, ...], ...]  # per visual line, the text of each column on it
    sizes: tuple[float, ...]  # per column: numbers wider than their column are set smaller
    height: float

    def draw(self, canvas: Canvas, top: float) -> None:
        baseline = top - 10
        for line in self.lines:
            for column, size, text in zip(COLUMNS, self.sizes, line, strict=True):
                style = BODY if size == BODY.size else Style(size)
                if column.right:
                    canvas.text_right(text, column.end, baseline, style)
                else:
                    canvas.text(text, column.x, baseline, style)
            baseline -= LEADING
        canvas.rule(LEFT, RIGHT, top - self.height, width=0.3, grey=0.85)


def table_row(cells: tuple[str, ...], fonts: Fonts) -> TableRow:
    wrapped: list[list[str]] = []
    sizes: list[float] = []
    for column, text in zip(COLUMNS, cells, strict=True):
        size = BODY.size
        if column.wraps:
            wrapped.append(fonts.wrap(text, BODY, column.width))
        else:
            width = fonts.width(text, BODY)
            if width > column.width:
                size = max(5.0, BODY.size * column.width / width)
            wrapped.append([text])
        sizes.append(size)
    count = max(len(cell) for cell in wrapped)
    lines = tuple(tuple(cell[i] if i < len(cell) else "" for cell in wrapped) for i in range(count))
    return TableRow(lines, tuple(sizes), height=4 + LEADING * count)


def table_header(canvas: Canvas, content: InvoiceContent, top: float) -> float:
    """The table's header row on a grey band; returns where the first row starts."""
    canvas.band(LEFT - 3, top - TABLE_HEADER_HEIGHT, RIGHT - LEFT + 6, TABLE_HEADER_HEIGHT, grey=0.92)
    for column, label in zip(COLUMNS, content.table_header, strict=True):
        if column.right:
            canvas.text_right(label, column.end, top - 10.5, HEADING)
        else:
            canvas.text(label, column.x, top - 10.5, HEADING)
    return top - TABLE_HEADER_HEIGHT


@dataclass(frozen=True)
class Summary:
    """The totals, the payment and bank details after the last line item."""

    content: InvoiceContent
    payment_lines: tuple[str, ...]

    @property
    def height(self) -> float:
        sums = 8 + len(self.content.sums) * SUM_LEADING + 20
        payment = 14 + len(self.payment_lines) * LEADING
        bank = (6 + len(self.content.bank) * LEADING) if self.content.bank else 0
        return sums + payment + bank

    def draw(self, canvas: Canvas, top: float) -> None:
        y = top - 8
        for label, value in self.content.sums:
            y -= SUM_LEADING
            canvas.text(label, SUM_LABEL_X, y, BODY)
            canvas.text_right(value, RIGHT, y, BODY)
        canvas.rule(SUM_LABEL_X, RIGHT, y - 6, width=0.8, grey=0)
        y -= 20
        label, value = self.content.total
        canvas.text(label, SUM_LABEL_X, y, TOTAL)
        canvas.text_right(value, RIGHT, y, TOTAL)
        y -= 14
        for line in self.payment_lines:
            y -= LEADING
            canvas.text(line, LEFT, y, BODY)
        if self.content.bank:
            y -= 6
            for label, value in self.content.bank:
                y -= LEADING
                canvas.text(label, LEFT, y, DETAIL)
                canvas.text(value, LEFT + 95, y, BODY)


def _fit(logo: Logo, box: tuple[float, float]) -> tuple[float, float]:
    """The logo's size in points: as large as fits the box, never distorted."""
    scale = min(box[0] / logo.width, box[1] / logo.height)
    return logo.width * scale, logo.height * scale


def first_page_header(canvas: Canvas, content: InvoiceContent, logo: Logo | None) -> float:
    """Logo, seller, sender line, addresses, invoice facts and the heading; returns where the table starts."""
    fonts = canvas.fonts
    if logo:
        width, height = _fit(logo, LOGO_BOX)
        canvas.image(LEFT, TOP - height, width, height)
        left_bottom = TOP - height
    else:  # the seller's name, large, in the logo's place
        left_bottom = TOP
        for line in fonts.wrap(content.seller_name, SELLER, HEADER_LEFT_WIDTH)[:3]:
            left_bottom -= SELLER.size + 2
            canvas.text(line, LEFT, left_bottom + 2, SELLER)
    y = TOP - 8 + 9.5
    seller_lines = (content.seller_name, *content.seller_lines) if logo else content.seller_lines
    for index, line in enumerate(seller_lines):
        style = BODY_BOLD if logo and index == 0 else DETAIL
        for part in fonts.wrap(line, style, HEADER_RIGHT_WIDTH):
            y -= 9.5
            canvas.text_right(part, RIGHT, y, style)
    y = min(left_bottom, y - 4) - 24

    # The seller in one line above the billing address, for window envelopes (DIN 5008): small enough to fit.
    sender_width = fonts.width(content.sender_line, SMALL)
    sender = (
        SMALL
        if sender_width <= SENDER_WIDTH
        else Style(max(4.0, SMALL.size * SENDER_WIDTH / sender_width), grey=SMALL.grey)
    )
    canvas.text(content.sender_line, LEFT, y, sender)
    canvas.rule(LEFT, LEFT + fonts.width(content.sender_line, sender), y - 2.5, width=0.3, grey=0.6)
    top = y - 18

    def block(x: float, width: float, label: str, lines: tuple[str, ...]) -> float:
        canvas.text(label, x, top, LABEL)
        y = top - 2
        for line in lines:
            for part in fonts.wrap(line, BODY, width):
                y -= LEADING
                canvas.text(part, x, y, BODY)
        return y

    if content.shipping_lines:
        bottoms = [block(LEFT, 145, content.billing_label, content.billing_lines)]
        bottoms.append(block(205, 130, content.shipping_label, content.shipping_lines))
    else:  # the billing address may take the room of the shipping address
        bottoms = [block(LEFT, 285, content.billing_label, content.billing_lines)]
    y = top + LEADING - 2
    for label, value in content.facts:
        y -= LEADING
        canvas.text(label, 345, y, DETAIL)
        for number, part in enumerate(fonts.wrap(value, BODY, RIGHT - 432)):
            y -= LEADING if number else 0
            canvas.text(part, 432, y, BODY)
    bottoms.append(y)

    y = min(bottoms) - 30
    canvas.text(content.heading, LEFT, y, TITLE)
    return y - 12


def continued_page_header(canvas: Canvas, content: InvoiceContent, logo: Logo | None) -> float:
    if logo:
        width, height = _fit(logo, SMALL_LOGO_BOX)
        canvas.image(LEFT, TOP - height, width, height)
    else:  # one line, smaller when it must be, clear of the header's right side
        name = Style(11, bold=True)
        width = canvas.fonts.width(content.seller_name, name)
        if width > HEADER_LEFT_WIDTH:
            name = Style(max(6.0, name.size * HEADER_LEFT_WIDTH / width), bold=True)
        canvas.text(content.seller_name, LEFT, TOP - 11, name)
    canvas.text_right(content.continued, RIGHT, TOP - 8, BODY_BOLD)
    canvas.text_right(content.date_line, RIGHT, TOP - 19, DETAIL)
    return CONTINUED_TABLE_TOP


def footer(canvas: Canvas, content: InvoiceContent, page: int, pages: int) -> float:
    """The seller's footer text and "Page x of y" below a rule; returns the lowest y the page body may use."""
    lines = canvas.fonts.wrap(content.footer, SMALL, 380) if content.footer else []
    rule_y = 40 + 8 * max(1, len(lines))
    canvas.rule(LEFT, RIGHT, rule_y, width=0.4, grey=0.7)
    y = rule_y - 10
    canvas.text_right(content.page_label.format(page=page, pages=pages), RIGHT, y, SMALL)
    for line in lines:
        canvas.text(line, LEFT, y, SMALL)
        y -= 8
    return rule_y + 8


def _paginate(rows: list[TableRow], first_room: float, next_room: float, summary_height: float) -> list[list[TableRow]]:
    """Line items per page, in order; the summary fits after the last page's rows.

    When the summary does not fit, the last line moves to the next page with it, so the totals never
    stand on a page without the table they sum up.
    """
    pages: list[list[TableRow]] = [[]]
    room = first_room
    for row in rows:
        if row.height > room and pages[-1]:
            pages.append([])
            room = next_room
        pages[-1].append(row)
        room -= row.height
    if summary_height > room:
        carried = [pages[-1].pop()] if len(pages[-1]) > 1 else []
        pages.append(carried)
    return pages


def _logo(data: bytes | None) -> Logo | None:
    """The seller's logo; one that cannot be read is left out (and logged) rather than failing invoices."""
    if not data:
        return None
    try:
        return logo_image(data)
    except UnsupportedImage as error:
        logger.warning("invoice logo left out: %s", error)
        return None


def _text_string(value: str) -> hexstr:
    """A PDF text string in UTF-16BE with its byte order mark: any character, no escaping needed."""
    return hexstr("FEFF" + value.encode("utf-16-be").hex().upper())


def _resources(fonts: Fonts, canvases: list[Canvas], logo: Logo | None) -> dict[str, object]:
    """The resources of every page of one document: one dictionary, so borb writes it once."""
    regular = set().union(*(canvas.characters[False] for canvas in canvases))
    bold = set().union(*(canvas.characters[True] for canvas in canvases))
    resources: dict[str, object] = {
        name("Font"): {name("F1"): fonts.regular.resource(regular), name("F2"): fonts.bold.resource(bold)}
    }
    if logo:
        resources[name("XObject")] = {name("Logo"): logo.xobject}
    return resources


def _page(canvas: Canvas, resources: dict[str, object]) -> Page:
    page = Page(width_in_points=PAGE_WIDTH, height_in_points=PAGE_HEIGHT)
    page[name("Resources")] = resources
    contents = stream()
    contents[name("Bytes")] = zlib.compress(canvas.content(), 6)
    contents[name("Filter")] = name("FlateDecode")
    contents[name("Length")] = len(contents["Bytes"])
    page[name("Contents")] = contents
    return page


def render_invoice_pdf(document: InvoiceDocument) -> bytes:
    prepare_borb()
    content = invoice_content(document)
    characters = set().union(*content.strings())
    fonts = Fonts(regular=font_for(False, characters), bold=font_for(True, characters))
    logo = _logo(document.seller.logo)

    rows = [table_row(cells, fonts) for cells in content.rows]
    summary = Summary(content, tuple(fonts.wrap(content.payment, BODY, RIGHT - LEFT)))
    first = Canvas(fonts)
    first_table_top = table_header(first, content, first_page_header(first, content, logo))
    # The footer's height depends only on its text, so one drawn on a scratch canvas measures them all.
    bottom = footer(Canvas(fonts), content, 1, 1)
    next_table_top = CONTINUED_TABLE_TOP - TABLE_HEADER_HEIGHT
    pages = _paginate(rows, first_table_top - bottom, next_table_top - bottom, summary.height)

    canvases: list[Canvas] = []
    for index, page_rows in enumerate(pages):
        canvas = first
        y = first_table_top
        if index > 0:
            canvas = Canvas(fonts)
            y = continued_page_header(canvas, content, logo)
            if page_rows:
                y = table_header(canvas, content, y)
        for row in page_rows:
            row.draw(canvas, y)
            y -= row.height
        if index == len(pages) - 1:
            summary.draw(canvas, y)
        footer(canvas, content, index + 1, len(pages))
        canvases.append(canvas)

    resources = _resources(fonts, canvases, logo)
    pdf = Document()
    for canvas in canvases:
        pdf.append_page(_page(canvas, resources))
    _describe(pdf, content)

    buffer = io.BytesIO()
    # borb prints a licence reminder to stdout every 64 documents; it belongs in neither stdout nor logs.
    with contextlib.redirect_stdout(io.StringIO()):
        PDF.write(what=pdf, where_to=buffer)
    return buffer.getvalue()


def _describe(pdf: Document, content: InvoiceContent) -> None:
    """Document metadata (title, author, subject) and language, for viewers, search and screen readers."""
    info = pdf["Trailer"]["Info"]
    info[name("Title")] = _text_string(content.title)
    info[name("Author")] = _text_string(content.author)
    info[name("Subject")] = _text_string(content.subject)
    info[name("Creator")] = _text_string(CREATOR)
    catalog = pdf["Trailer"]["Root"]
    catalog[name("Lang")] = _text_string(content.language)
    catalog[name("ViewerPreferences")] = {name("DisplayDocTitle"): True}
