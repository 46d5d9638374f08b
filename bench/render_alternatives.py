"""The renderers bench/render_bench.py measures the project's beside: borb's own invoice template
(A4PortraitInvoice) and reportlab's platypus (a benchmark-only dependency: the `bench` extra)."""

import contextlib
import io
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from invoicing.document import InvoiceDocument
from streams.rendering.content import InvoiceContent, invoice_content
from streams.rendering.fonts import FONT_DIR


def render_with_borb_template(document: InvoiceDocument, logo: bytes, path: Path) -> None:
    """The same invoice through borb's A4PortraitInvoice (which needs a logo, and Pillow to read it)."""
    from borb.pdf.document_layout.a4_portrait_invoice import A4PortraitInvoice

    content = invoice_content(document)

    def latin1(text: str) -> str:
        # The template writes with the built-in Helvetica, which has no "Ł" (nor anything beyond Latin-1):
        # such characters would raise UnicodeEncodeError in borb, so they go in as "?".
        return text.encode("latin-1", "replace").decode("latin-1")

    def five(lines: tuple[str, ...]) -> list[str]:
        return [latin1(line) for line in [*lines, "", "", "", "", ""][:5]]

    totals = document.totals
    invoice = A4PortraitInvoice()
    invoice.set_address(*five((content.seller_name, *content.seller_lines)))
    invoice.set_bill_to(*five(content.billing_lines))
    invoice.set_ship_to(*five(content.shipping_lines or content.billing_lines))
    for line in totals.lines:
        # The template takes floats; the project's own renderer keeps money in Decimal.
        invoice.append_item(float(line.net), latin1(line.description), int(line.quantity), float(line.unit_price))
    invoice.set_subtotal(float(totals.subtotal + totals.shipping_net))
    invoice.set_discounts(float(sum(line.discount for line in totals.lines)))
    invoice.set_taxes(float(totals.tax_total))
    invoice.set_total(float(totals.total))
    invoice.set_date(datetime.combine(document.invoice_date, datetime.min.time()))
    if document.payment.due_on:
        invoice.set_due_date(datetime.combine(document.payment.due_on, datetime.min.time()))
    invoice.set_invoice_nr(document.invoice_number)
    invoice.set_currency_abbreviation(totals.currency)
    invoice.set_logo(logo)
    invoice.set_terms_and_conditions(latin1(content.footer))
    with contextlib.redirect_stdout(io.StringIO()):  # borb's licence reminder
        invoice.save(str(path))


@cache
def _reportlab_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(FONT_DIR / "DejaVuSans-Bold.ttf")))


def render_with_reportlab(content: InvoiceContent, logo: bytes) -> bytes:
    """The same invoice with reportlab's platypus: DejaVu Sans embedded (subset), "Page x of y"."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _reportlab_fonts()
    body = ParagraphStyle("body", fontName="DejaVuSans", fontSize=8.5, leading=10.5)
    bold = ParagraphStyle("bold", parent=body, fontName="DejaVuSans-Bold")
    title = ParagraphStyle("title", parent=bold, fontSize=16, leading=20)

    class NumberedCanvas(Canvas):  # type: ignore[misc]  # "Page x of y" needs the page count: a second pass
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.setFont("DejaVuSans", 6.5)
                self.drawString(50, 30, content.footer)
                self.drawRightString(545, 30, content.page_label.format(page=number, pages=len(self._pages)))
                super().showPage()
            super().save()

    def lines(values: tuple[str, ...]) -> Paragraph:
        return Paragraph("<br/>".join(values), body)

    header = Table(
        [[Image(io.BytesIO(logo), width=168, height=56), lines((content.seller_name, *content.seller_lines))]],
        colWidths=[250, 245],
    )
    addresses = Table(
        [
            [
                lines((content.billing_label, *content.billing_lines)),
                lines((content.shipping_label, *content.shipping_lines)),
                Table([list(fact) for fact in content.facts], style=[("FONT", (0, 0), (-1, -1), "DejaVuSans", 8)]),
            ]
        ],
        colWidths=[155, 140, 200],
    )
    rows = [list(content.table_header)] + [
        [row[0], Paragraph(row[1], body), Paragraph(row[2], body), *row[3:]] for row in content.rows
    ]
    items = Table(rows, colWidths=[22, 145, 70, 30, 58, 48, 64, 58], repeatRows=1)
    items.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "DejaVuSans-Bold", 7.5),
                ("FONT", (0, 1), (-1, -1), "DejaVuSans", 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
                ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.Color(0.85, 0.85, 0.85)),
            ]
        )
    )
    sums = Table([*map(list, content.sums), list(content.total)], colWidths=[180, 55], hAlign="RIGHT")
    sums.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "DejaVuSans", 8.5), ("ALIGN", (1, 0), (1, -1), "RIGHT")]))
    story = [header, Spacer(0, 12), addresses, Spacer(0, 12), Paragraph(content.heading, title), items, sums]
    story += [Spacer(0, 10), Paragraph(content.payment, body)]
    if content.bank:
        story.append(Table([list(row) for row in content.bank], style=[("FONT", (0, 0), (-1, -1), "DejaVuSans", 8)]))
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=50,
        rightMargin=50,
        topMargin=42,
        bottomMargin=60,
        title=content.title,
        author=content.author,
        subject=content.subject,
    )
    pdf.build(story, canvasmaker=NumberedCanvas)
    return buffer.getvalue()
