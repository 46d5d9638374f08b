"""The invoice PDF, read back with pypdf: every figure, the pages, Unicode names, locales, logo, metadata
and a quiet borb. Figures expected here are worked out by plain arithmetic, not by the code under test."""

import dataclasses
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from invoicing.document import (
    DEFAULT_SELLER,
    BankDetails,
    DocumentKind,
    InvoiceDocument,
    PrecedingInvoice,
    build_invoice_document,
)
from invoicing.recalculation import recalculate, totals_of
from schemas.orders import parse_order_event
from streams.rendering.pdf import render_invoice_pdf
from tests.factories import encoded, order_event

CENT = Decimal("0.01")
NAMES = "Müller & Söhne, Łódź, Ørsted, Zażółć gęślą jaźń"
ADDRESS = {"street": "Hauptstraße", "streetNumber": "5", "zipCode": "80331", "city": "München", "country": "DE"}


def document(
    *, seller: dict[str, Any] | None = None, customer: str | dict[str, str] = "Erika Mustermann", **order: Any
) -> InvoiceDocument:
    """An invoice for the factories' order (or one with `order` fields replaced), issued 25 Nov 2026."""
    event = order_event("shop", "order-9", **order)
    event["order"]["customer"] = customer if isinstance(customer, dict) else {"name": customer}
    parsed = parse_order_event(encoded(event)).order
    return build_invoice_document(
        order=parsed,
        tenant="shop",
        totals=recalculate(parsed),
        invoice_number="INV-000042",
        issued_at=datetime(2026, 11, 25, 9, tzinfo=UTC),
        seller=dataclasses.replace(DEFAULT_SELLER, **(seller or {})),
    )


def invoice(lines: int, customer: str = "Erika Mustermann", **seller: Any) -> InvoiceDocument:
    """Line i: 1 x (i + 0.50) at 19 %, no shipping."""
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
    return document(customer=customer, entries=entries, shipping=None, seller=seller)


def pages_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def words(text: str) -> str:
    """Text with every run of white space (no-break spaces too) as one space."""
    return re.sub(r"\s+", " ", text)


def euro(amount: Decimal) -> str:
    return f"€{amount.quantize(CENT):,}"


@pytest.mark.parametrize(("lines", "pages"), [(1, 1), (30, 1), (200, 5)])
def test_every_line_and_figure_on_the_right_number_of_pages(lines: int, pages: int) -> None:
    texts = pages_of(render_invoice_pdf(invoice(lines)))
    assert len(texts) == pages
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {pages}" in text
        assert "Pos. Description SKU Qty Unit price Discount Net VAT" in text, "the table header on every page"
    everything = "\n".join(texts)
    for i in range(1, lines + 1):
        price = euro(Decimal(i) + Decimal("0.5"))
        assert f"\n{i} Article {i:03d} SKU-{i} 1 {price} {price} 19%\n" in everything

    subtotal = sum((Decimal(i) + Decimal("0.5") for i in range(1, lines + 1)), Decimal(0))
    tax = (subtotal * Decimal("0.19")).quantize(CENT, rounding="ROUND_HALF_UP")
    last = texts[-1]
    assert f"Subtotal (net) {euro(subtotal)}\n" in last
    assert f"VAT 19% on {euro(subtotal)} {euro(tax)}\n" in last
    assert f"Total (EUR) {euro(subtotal + tax)}\n" in last
    assert last.index("Total (EUR)") > last.index(f"Article {lines:03d}"), "the totals come after the last line"
    assert "INV-000042" in texts[0] and "Erika Mustermann" in texts[0]


@pytest.mark.parametrize("lines", range(30, 46))
def test_totals_never_stand_on_a_page_without_line_items(lines: int) -> None:
    texts = pages_of(render_invoice_pdf(invoice(lines)))
    assert "Total (EUR)" in texts[-1] and "Article" in texts[-1]
    assert sum(text.count(" Article ") for text in texts) == lines


def test_standard_order_with_two_rates_shipping_and_payment_due() -> None:
    # tests/factories.py works these figures out by hand.
    [text] = pages_of(render_invoice_pdf(document()))
    for row in (
        "1 Espresso cup CUP-1 2 €19.99 €39.98 19%",
        "2 Coffee beans 250 g BEAN-250 1 €5.00 €5.00 7%",
        "Shipping €4.90 19%",  # its own line, after the items
        "Subtotal (net) €49.88",
        "VAT 7% on €5.00 €0.35",
        "VAT 19% on €44.88 €8.53",
        "Total (EUR) €58.76",
        "Please pay €58.76 by 9 Dec 2026, quoting the invoice number INV-000042.",
    ):
        assert f"\n{row}\n" in text
    assert text.index("VAT 7%") < text.index("VAT 19%") < text.index("Total (EUR)")
    for fact in ("Invoice number INV-000042", "Invoice date 25 Nov 2026", "Delivery date 22 Nov 2026"):
        assert fact in text
    assert "Order number order-9" in text and "Order date 20 Nov 2026" in text


def test_discount_and_unrounded_unit_price() -> None:
    entries = [
        {
            "id": "1",
            "product": {"name": "Mug", "sku": "MUG-1"},
            "amount": 3,
            "unitPrice": 10,
            "discount": 2,
            "taxRate": 7,
        },
        {"id": "2", "product": {"name": "Screw", "sku": "S-4"}, "amount": 1000, "unitPrice": 0.125, "taxRate": 7},
    ]
    [text] = pages_of(render_invoice_pdf(document(entries=entries, shipping=None)))
    assert "\n1 Mug MUG-1 3 €10.00 €2.00 €28.00 7%\n" in text  # 3 x 10.00 - 2.00
    assert "\n2 Screw S-4 1,000 €0.125 €125.00 7%\n" in text  # 1000 x 0.125, the price not rounded


def test_seller_and_buyer_details() -> None:
    seller = {
        "tax_number": "27/123/45678",
        "phone": "+49 30 1234567",
        "footer": "Invoice Service Demo GmbH · Managing director: Erika Beispiel · Amtsgericht Berlin HRB 12345",
    }
    shipping_address = {**ADDRESS, "street": "Lagerweg", "streetNumber": "7", "city": "Hamburg", "zipCode": "20095"}
    customer = {"name": "Max Kunde", "company": "Kunde AG", "vatId": "ATU12345678", "email": "max@example.com"}
    texts = pages_of(
        render_invoice_pdf(
            document(seller=seller, customer=customer, shippingAddress=shipping_address, entries=entries(60))
        )
    )
    first = texts[0]
    for detail in ("Musterstraße 1", "10115 Berlin", "VAT ID: DE000000000", "Tax number: 27/123/45678"):
        assert detail in first, "the seller"
    for detail in ("Kunde AG", "Max Kunde", "Hauptstraße 5", "80331 München", "VAT ID: ATU12345678"):
        assert detail in first, "the buyer and the billing address"
    assert "Shipping address" in first and "Lagerweg 7" in first and "20095 Hamburg" in first
    assert all("Amtsgericht Berlin HRB 12345" in words(text) for text in texts), "the footer on every page"


def test_no_shipping_address_block_when_it_is_the_billing_address() -> None:
    [text] = pages_of(render_invoice_pdf(document(shippingAddress=ADDRESS)))
    assert "Shipping address" not in text


def test_paid_invoice_names_method_and_date_and_no_bank_details() -> None:
    bank = BankDetails("Invoice Service Demo GmbH", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX", "Commerzbank")
    paid = document(payments=[{"method": "paypal", "status": "CAPTURED"}], seller={"bank": bank})
    [text] = pages_of(render_invoice_pdf(paid))
    assert "Paid by PayPal on 25 Nov 2026." in text
    assert "IBAN" not in text and "Please pay" not in text


def test_due_invoice_shows_bank_details() -> None:
    bank = BankDetails("Invoice Service Demo GmbH", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX", "Commerzbank")
    [text] = pages_of(render_invoice_pdf(document(seller={"bank": bank})))
    assert "Please pay €58.76 by 9 Dec 2026" in text
    for row in (
        "Account holder Invoice Service Demo GmbH",
        "IBAN DE89 3704 0044 0532 0130 00",
        "BIC COBADEFFXXX",
        "Bank Commerzbank",
        "Reference INV-000042",
    ):
        assert f"\n{row}" in text


def test_unicode_names_come_back_out() -> None:
    [text] = pages_of(render_invoice_pdf(invoice(1, customer=NAMES)))
    assert NAMES in text


def test_unicode_in_every_part_of_the_invoice() -> None:
    product = {"name": f"Kaffee {NAMES}", "sku": "Ø-1"}
    entries = [{"id": "1", "product": product, "amount": 1, "unitPrice": 1, "taxRate": 19}]
    shipping_address = {**ADDRESS, "contactName": "Zażółć gęślą jaźń", "city": "Łódź", "country": "PL"}
    pdf = render_invoice_pdf(
        document(
            customer=NAMES,
            entries=entries,
            shippingAddress=shipping_address,
            seller={"legal_name": "Ørsted & Müller GmbH", "footer": "Łódź · Zażółć gęślą jaźń · €"},
        )
    )
    text = words(pages_of(pdf)[0])
    for name in ("Müller & Söhne", "Łódź", "Ørsted", "Zażółć gęślą jaźń", "Ørsted & Müller GmbH", "Poland", "€1.00"):
        assert name in text
    assert f"Kaffee {NAMES}" in text or all(part in text for part in ("Kaffee Müller", "Zażółć"))


def test_scripts_beyond_latin_and_characters_the_fonts_lack() -> None:
    [text] = pages_of(render_invoice_pdf(invoice(1, customer="Παπαδόπουλος Иванов 王 \U00013000")))
    assert "Παπαδόπουλος Иванов 王 ?" in text  # Chinese from Noto Sans CJK; no font has hieroglyphs


def test_long_descriptions_and_skus_wrap_in_their_columns() -> None:
    description = "Hand-roasted single-origin coffee beans from a small cooperative in the Huila region, 1 kg bag"
    sku = "COFFEE-HUILA-1KG-WHOLEBEAN-2026"
    entries = [{"id": "1", "product": {"name": description, "sku": sku}, "amount": 1, "unitPrice": 24.9, "taxRate": 7}]
    [text] = pages_of(render_invoice_pdf(document(entries=entries, shipping=None)))
    row = text[text.index("\n1 Hand-roasted") + 1 : text.index("\nSubtotal")]
    assert row.split("\n")[0].endswith(" 1 €24.90 €24.90 7%"), "the figures stand on the row's first line"
    assert len(row.split("\n")) > 2, "the description and the SKU wrapped"
    for word in description.split():
        assert word in row
    sku_parts = [token for token in row.split() if len(token) > 1 and token in sku]
    assert "".join(sku_parts) == sku
    assert all(part.endswith("-") for part in sku_parts[:-1]), "broken after its hyphens"


def test_german_locale_and_labels() -> None:
    [text] = pages_of(render_invoice_pdf(invoice(2, language="de", locale="de_DE")))
    plain = words(text)
    for label in ("Rechnung", "Rechnungsnummer INV-000042", "Rechnungsdatum 25.11.2026", "Lieferdatum 22.11.2026"):
        assert label in plain
    assert "Pos. Beschreibung Art.-Nr. Menge Einzelpreis Rabatt Netto USt." in plain
    assert "1 Article 001 SKU-1 1 1,50 € 1,50 € 19 %" in plain
    assert "Zwischensumme (netto) 4,00 €" in plain
    assert "USt. 19 % auf 4,00 € 0,76 €" in plain
    assert "Gesamtbetrag (EUR) 4,76\xa0€" in text  # Babel puts a no-break space before €
    assert "Bitte überweisen Sie 4,76 € bis zum 09.12.2026" in plain
    assert "Deutschland" in plain and "Seite 1 von 1" in plain


def test_the_seller_block_shows_tax_number_and_register_entry() -> None:
    registered = invoice(
        1, language="de", locale="de_DE", vat_id=None, tax_number="27/123/45678", legal_registration_id="HRB 12345 B"
    )
    [text] = pages_of(render_invoice_pdf(registered))
    plain = words(text)
    assert "Steuernummer: 27/123/45678" in plain and "Handelsregister: HRB 12345 B" in plain
    assert "USt-IdNr." not in plain


@pytest.mark.parametrize(
    ("locale", "currency", "unit_price", "total", "invoice_date"),
    [
        ("de_DE", "EUR", "1.234,56 €", "1.469,13 €", "25.11.2026"),
        ("en_GB", "EUR", "€1,234.56", "€1,469.13", "25 Nov 2026"),
        ("en_US", "USD", "$1,234.56", "$1,469.13", "Nov 25, 2026"),
        ("de_DE", "USD", "1.234,56 $", "1.469,13 $", "25.11.2026"),
    ],
)
def test_money_numbers_and_dates_follow_the_locale(
    locale: str, currency: str, unit_price: str, total: str, invoice_date: str
) -> None:
    # 1234.56 net + 19 % (234.5664 -> 234.57) = 1469.13
    entries = [{"id": "1", "product": {"name": "Espresso machine"}, "amount": 1, "unitPrice": 1234.56, "taxRate": 19}]
    doc = document(entries=entries, shipping=None, currency=currency, seller={"locale": locale})
    plain = words(pages_of(render_invoice_pdf(doc))[0])
    assert f"1 Espresso machine 1 {unit_price} {unit_price}" in plain
    assert f"Total ({currency}) {total}" in plain
    assert f"Invoice date {invoice_date}" in plain


def entries(count: int) -> list[dict[str, Any]]:
    return [
        {"id": str(i), "product": {"name": f"Item {i}", "sku": f"I-{i}"}, "amount": 1, "unitPrice": 1, "taxRate": 19}
        for i in range(1, count + 1)
    ]


def credit_note(**seller: Any) -> InvoiceDocument:
    """A credit note for 1 of the standard order's two cups, correcting INV-000042 of 25 Nov 2026."""
    invoice = document(seller=seller)
    cup = dataclasses.replace(invoice.totals.lines[0], quantity=Decimal(1), net=Decimal("19.99"))
    totals = totals_of("EUR", (cup,), Decimal(0), None)
    return dataclasses.replace(
        invoice,
        kind=DocumentKind.CREDIT_NOTE,
        invoice_number="CN-000007",
        invoice_date=date(2026, 12, 2),
        totals=totals,
        preceding_invoice=PrecedingInvoice(number="INV-000042", issued_on=invoice.invoice_date),
    )


def test_credit_note_is_titled_so_and_names_the_invoice_it_corrects() -> None:
    pdf = render_invoice_pdf(credit_note())
    [text] = pages_of(pdf)
    plain = words(text)
    assert "Credit note Pos. Description" in plain  # the heading above the lines
    assert "Credit note number CN-000007" in plain and "Credit note date 2 Dec 2026" in plain
    assert "Corrects invoice INV-000042, 25 Nov 2026" in plain
    assert "1 Espresso cup CUP-1 1 €19.99 €19.99 19%" in plain
    assert "VAT 19% on €19.99 €3.80 Total (EUR) €23.79" in plain
    assert "The amount of €23.79 is credited against invoice INV-000042." in plain
    assert "Please pay" not in plain and "IBAN" not in plain
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "Credit note CN-000007"  # type: ignore[union-attr]


def test_german_credit_note_is_a_rechnungskorrektur() -> None:
    [text] = pages_of(render_invoice_pdf(credit_note(language="de", locale="de_DE")))
    plain = words(text)
    assert "Rechnungskorrektur" in plain and "Korrekturnummer CN-000007" in plain
    assert "Korrekturdatum 02.12.2026" in plain
    assert "Korrigiert Rechnung INV-000042, 25.11.2026" in plain
