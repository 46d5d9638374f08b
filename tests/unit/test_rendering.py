"""The invoice PDF, read back with pypdf: every figure, the pages, Unicode names, and a quiet borb."""

import io
import signal
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from invoicing.document import DEFAULT_SELLER, InvoiceDocument, build_invoice_document
from invoicing.recalculation import recalculate
from schemas.orders import parse_order_event
from streams.rendering.pdf import render_invoice_pdf
from streams.rendering.pool import RenderPool
from tests.factories import encoded, order_event


def invoice(lines: int, customer: str = "Erika Mustermann", **seller: Any) -> InvoiceDocument:
    # Line i: 1 x (i + 0.50) at 19 %; figures worked out below by plain arithmetic.
    entries = [
        {
            "id": str(i),
            "product": {"name": f"Article {i:03d}", "sku": f"SKU-{i}"},
            "amount": 1,
            "unitPrice": i + 0.5,
            "taxRate": 19,
        }
        for i in range(1, lines + 1)
    ]
    subtotal = sum(Decimal(i) + Decimal("0.5") for i in range(1, lines + 1))
    tax = (subtotal * Decimal("0.19")).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    event = order_event(
        "shop",
        "order-9",
        customer=customer,
        entries=entries,
        shipping=None,
        sub_total=str(subtotal),
        total=str(subtotal + tax),
    )
    order = parse_order_event(encoded(event)).order
    return build_invoice_document(
        order=order,
        tenant="shop",
        totals=recalculate(order),
        invoice_number="INV-000042",
        issued_at=datetime(2026, 11, 25, 9, tzinfo=UTC),
        seller=DEFAULT_SELLER.__class__(**{**DEFAULT_SELLER.__dict__, **seller}),
    )


def text_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.mark.parametrize(("lines", "pages"), [(1, 1), (30, 2), (200, 6)])
def test_every_line_and_figure_on_the_right_number_of_pages(lines: int, pages: int) -> None:
    document = invoice(lines)
    texts = text_of(render_invoice_pdf(document))
    assert len(texts) == pages
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {pages}" in text
        assert "Description" in text, "the table header is repeated on every page"
    everything = "\n".join(texts)
    for line in document.totals.lines:
        assert f"Article {line.position:03d}" in everything
    assert "INV-000042" in texts[0] and "Erika Mustermann" in texts[0]
    [tax] = document.totals.taxes
    assert f"€{tax.tax:,}" in texts[-1]
    assert f"€{document.totals.total:,}" in texts[-1]


def test_unicode_names_come_back_out() -> None:
    names = "Müller & Söhne, Łódź, Ørsted, Zażółć gęślą jaźń"
    assert names in text_of(render_invoice_pdf(invoice(1, customer=names)))[0]


def test_german_locale_and_labels() -> None:
    [text] = text_of(render_invoice_pdf(invoice(2, language="de", locale="de_DE")))
    assert "Rechnung" in text and "Gesamtbetrag" in text
    assert "4,76\xa0€" in text  # 1.50 + 2.50 = 4.00 net, 0.76 VAT; Babel puts a no-break space before €


def test_borb_prints_nothing_and_leaves_signal_handlers_alone(capfd: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    document = invoice(1)
    for _ in range(70):  # borb's licence reminder comes every 64 documents
        render_invoice_pdf(document)
    assert capfd.readouterr().out == ""
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


async def test_pool_renders_in_another_process() -> None:
    async with RenderPool(processes=1) as pool:
        pdf = await pool.render(invoice(3))
    assert "INV-000042" in text_of(pdf)[0]
