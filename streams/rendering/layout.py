"""Where the invoice's strings go: measured, wrapped, paginated and placed on A4 pages.

The input is `InvoiceContent` (what the invoice says); the output is one `Canvas` per page, the page's
drawing operations as a PDF content stream, which `writer.py` puts into the document.

Text is measured with the embedded font's own advance widths (a dict lookup per character) and written
straight into the content stream. borb's layout elements measured every piece of text with a linear
search through the font's width table, which took ~90 % of the time (docs/invoice-pdf.md has the
profile), so this module does the placing itself.

A page holds a header (the first page's in full, a short one on the pages after it), the line items
table with its header repeated on each page, the totals and payment after the last line, and a footer
with "Page x of y".
"""

from dataclasses import dataclass

from invoicing.logo import LOGO_BOX  # the most the logo may take on the first page; uploads are sized for it
from streams.rendering.content import InvoiceContent
from streams.rendering.images import Logo
from streams.rendering.text import FONT_RESOURCES, Fonts, Style, font_resource

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
LEFT, RIGHT = 50.0, 545.0  # text margins
TOP = 800.0  # the top of the page header
LEADING = 10.5  # baseline to baseline in body text
TABLE_HEADER_HEIGHT = 15.0
HEADER_LEFT_WIDTH = 250.0  # the logo or the seller's name
HEADER_RIGHT_WIDTH = 235.0  # the seller's details, right-aligned
SENDER_WIDTH = 285.0  # the sender line over the billing address
SMALL_LOGO_BOX = (120.0, 30.0)  # the most the logo may take on the pages after the first (width, height)
CONTINUED_TABLE_TOP = TOP - SMALL_LOGO_BOX[1] - 14  # where the table starts on the pages after the first
SUM_LEADING = 12.0  # the subtotal and tax rows
SUM_LABEL_X = 310.0  # where their labels start; the amounts end at RIGHT
FACT_LABEL_X, FACT_VALUE_X = 345.0, 432.0  # the invoice facts, right of the addresses
FOOTER_WIDTH = 380.0  # the seller's footer text, left of "Page x of y"

# The name the content streams use for the logo; the writer makes the resource by it.
LOGO_RESOURCE = "Logo"


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


class Canvas:
    """One page's drawing operations as its PDF content stream: text runs, rules, shaded bands and the logo.

    Text goes in reading order (row by row, left to right), which is the order text extraction returns.
    """

    def __init__(self, fonts: Fonts) -> None:
        self.fonts = fonts
        # Characters written with each font, by (bold, index in the face's chain): each font's width table
        # lists only these.
        self.characters: dict[tuple[bool, int], set[str]] = {(False, 0): set(), (True, 0): set()}
        self._parts: list[str] = []

    def text(self, text: str, x: float, y: float, style: Style) -> None:
        if not text:
            return
        bold = style.bold
        if not self.fonts.fallbacks.get(bold):
            glyphs = self.fonts.face(style).encode(text)
            self.characters[bold, 0].update(text)
            font = FONT_RESOURCES[bold]
            self._parts.append(f"BT /{font} {style.size:g} Tf {style.grey:g} g {x:.2f} {y:.2f} Td <{glyphs}> Tj ET\n")
            return
        # One text object, the font switched between runs: each Tj moves on by its run's widths.
        chain = self.fonts.chain(bold)
        shows = []
        for index, run in self.fonts.runs(text, bold):
            self.characters.setdefault((bold, index), set()).update(run)
            shows.append(f"/{font_resource(bold, index)} {style.size:g} Tf <{chain[index].encode(run)}> Tj")
        self._parts.append(f"BT {style.grey:g} g {x:.2f} {y:.2f} Td {' '.join(shows)} ET\n")

    def text_right(self, text: str, right: float, y: float, style: Style) -> None:
        self.text(text, right - self.fonts.width(text, style), y, style)

    def rule(self, x1: float, x2: float, y: float, width: float = 0.4, grey: float = 0.75) -> None:
        self._parts.append(f"{grey:g} G {width:g} w {x1:.2f} {y:.2f} m {x2:.2f} {y:.2f} l S\n")

    def band(self, x: float, y: float, width: float, height: float, grey: float) -> None:
        self._parts.append(f"{grey:g} g {x:.2f} {y:.2f} {width:.2f} {height:.2f} re f\n")

    def image(self, x: float, y: float, width: float, height: float) -> None:
        self._parts.append(f"q {width:.2f} 0 0 {height:.2f} {x:.2f} {y:.2f} cm /{LOGO_RESOURCE} Do Q\n")

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
    """A line item measured: text columns wrapped, numbers too wide for their column set smaller."""
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


def draw_table_header(canvas: Canvas, content: InvoiceContent, top: float) -> float:
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
    note_lines: tuple[str, ...] = ()  # the legal notes, wrapped

    @property
    def height(self) -> float:
        sums = 8 + len(self.content.sums) * SUM_LEADING + 20
        notes = (10 + len(self.note_lines) * LEADING) if self.note_lines else 0
        payment = 14 + len(self.payment_lines) * LEADING
        bank = (6 + len(self.content.bank) * LEADING) if self.content.bank else 0
        return sums + notes + payment + bank

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
        if self.note_lines:
            y -= 10
            for line in self.note_lines:
                y -= LEADING
                canvas.text(line, LEFT, y, BODY)
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
    left_bottom = _logo_or_seller_name(canvas, content, logo)
    right_bottom = _seller_details(canvas, content, with_name=logo is not None)
    y = min(left_bottom, right_bottom - 4) - 24
    _sender_line(canvas, content, y)
    top = y - 18
    bottom = min(_addresses(canvas, content, top), _facts(canvas, content, top))
    heading = bottom - 30
    canvas.text(content.heading, LEFT, heading, TITLE)
    return heading - 12


def _logo_or_seller_name(canvas: Canvas, content: InvoiceContent, logo: Logo | None) -> float:
    """The logo at the top left, or without one the seller's name, large, in its place; returns its bottom."""
    if logo:
        width, height = _fit(logo, LOGO_BOX)
        canvas.image(LEFT, TOP - height, width, height)
        return TOP - height
    bottom = TOP
    for line in canvas.fonts.wrap(content.seller_name, SELLER, HEADER_LEFT_WIDTH)[:3]:
        bottom -= SELLER.size + 2
        canvas.text(line, LEFT, bottom + 2, SELLER)
    return bottom


def _seller_details(canvas: Canvas, content: InvoiceContent, *, with_name: bool) -> float:
    """The seller's address and contact at the top right, under its name when the logo stands for it on
    the left; returns the last line's baseline."""
    lines = (content.seller_name, *content.seller_lines) if with_name else content.seller_lines
    y = TOP - 8 + 9.5
    for index, line in enumerate(lines):
        style = BODY_BOLD if with_name and index == 0 else DETAIL
        for part in canvas.fonts.wrap(line, style, HEADER_RIGHT_WIDTH):
            y -= 9.5
            canvas.text_right(part, RIGHT, y, style)
    return y


def _sender_line(canvas: Canvas, content: InvoiceContent, y: float) -> None:
    """The seller in one underlined line above the billing address, for window envelopes (DIN 5008): set
    smaller when it would not fit the window."""
    fonts = canvas.fonts
    width = fonts.width(content.sender_line, SMALL)
    style = SMALL if width <= SENDER_WIDTH else Style(max(4.0, SMALL.size * SENDER_WIDTH / width), grey=SMALL.grey)
    canvas.text(content.sender_line, LEFT, y, style)
    canvas.rule(LEFT, LEFT + fonts.width(content.sender_line, style), y - 2.5, width=0.3, grey=0.6)


def _addresses(canvas: Canvas, content: InvoiceContent, top: float) -> float:
    """The billing address, and the shipping address beside it when there is one; returns the lowest baseline."""
    if not content.shipping_lines:  # the billing address may take the room of the shipping address
        return _address_block(canvas, LEFT, 285, top, content.billing_label, content.billing_lines)
    billing = _address_block(canvas, LEFT, 145, top, content.billing_label, content.billing_lines)
    shipping = _address_block(canvas, 205, 130, top, content.shipping_label, content.shipping_lines)
    return min(billing, shipping)


def _address_block(canvas: Canvas, x: float, width: float, top: float, label: str, lines: tuple[str, ...]) -> float:
    canvas.text(label, x, top, LABEL)
    y = top - 2
    for line in lines:
        for part in canvas.fonts.wrap(line, BODY, width):
            y -= LEADING
            canvas.text(part, x, y, BODY)
    return y


def _facts(canvas: Canvas, content: InvoiceContent, top: float) -> float:
    """Invoice number, dates and order beside the addresses, labels left, values wrapping; returns the last baseline."""
    y = top + LEADING - 2
    for label, value in content.facts:
        y -= LEADING
        # Labels wrap too: some languages' are longer than the column ("Numer faktury korygującej").
        labels = canvas.fonts.wrap(label, DETAIL, FACT_VALUE_X - FACT_LABEL_X - 4)
        values = canvas.fonts.wrap(value, BODY, RIGHT - FACT_VALUE_X)
        for number, part in enumerate(labels):
            canvas.text(part, FACT_LABEL_X, y - number * LEADING, DETAIL)
        for number, part in enumerate(values):
            canvas.text(part, FACT_VALUE_X, y - number * LEADING, BODY)
        y -= LEADING * (max(len(labels), len(values)) - 1)
    return y


def continued_page_header(canvas: Canvas, content: InvoiceContent, logo: Logo | None) -> float:
    """A small logo (or the seller's name) and "Invoice ... (continued)"; returns where the table starts."""
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
    lines = canvas.fonts.wrap(content.footer, SMALL, FOOTER_WIDTH) if content.footer else []
    rule_y = 40 + 8 * max(1, len(lines))
    canvas.rule(LEFT, RIGHT, rule_y, width=0.4, grey=0.7)
    y = rule_y - 10
    canvas.text_right(content.page_label.format(page=page, pages=pages), RIGHT, y, SMALL)
    for line in lines:
        canvas.text(line, LEFT, y, SMALL)
        y -= 8
    return rule_y + 8


def paginate(rows: list[TableRow], first_room: float, next_room: float, summary_height: float) -> list[list[TableRow]]:
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


def lay_out(content: InvoiceContent, fonts: Fonts, logo: Logo | None) -> list[Canvas]:
    """The invoice's pages, each drawn in full: header, table rows, the summary on the last, footer."""
    rows = [table_row(cells, fonts) for cells in content.rows]
    summary = Summary(
        content,
        tuple(fonts.wrap(content.payment, BODY, RIGHT - LEFT)),
        tuple(line for note in content.legal_notes for line in fonts.wrap(note, BODY, RIGHT - LEFT)),
    )
    first = Canvas(fonts)
    first_table_top = draw_table_header(first, content, first_page_header(first, content, logo))
    # The footer's height depends only on its text, so one drawn on a scratch canvas measures them all.
    bottom = footer(Canvas(fonts), content, 1, 1)
    next_table_top = CONTINUED_TABLE_TOP - TABLE_HEADER_HEIGHT
    pages = paginate(rows, first_table_top - bottom, next_table_top - bottom, summary.height)

    canvases: list[Canvas] = []
    for index, page_rows in enumerate(pages):
        canvas, y = (first, first_table_top) if index == 0 else _continued_page(fonts, content, logo, bool(page_rows))
        for row in page_rows:
            row.draw(canvas, y)
            y -= row.height
        if index == len(pages) - 1:
            summary.draw(canvas, y)
        footer(canvas, content, index + 1, len(pages))
        canvases.append(canvas)
    return canvases


def _continued_page(fonts: Fonts, content: InvoiceContent, logo: Logo | None, rows: bool) -> tuple[Canvas, float]:
    """A page after the first with its short header, and the table header when rows follow (not over a
    summary alone); returns it with where its body starts."""
    canvas = Canvas(fonts)
    y = continued_page_header(canvas, content, logo)
    if rows:
        y = draw_table_header(canvas, content, y)
    return canvas, y
