"""Languages: the message catalogs are complete and current, the order's language (else the tenant's) picks
the one an invoice is written in, and the PDF, its email and credit notes speak it, with numbers, money
and dates in its locale."""

import dataclasses
import subprocess
import sys
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from pydantic import ValidationError

from invoicing.language import LOCALES_DIR, available_languages, invoice_language, invoice_locale
from schemas.orders import parse_order_event
from streams.rendering.mail import invoice_mail_text
from streams.rendering.pdf import render_invoice_pdf
from tests.factories import encoded, order_event
from tests.unit.test_rendering import credit_note, document, pages_of, words

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"en", "de", "fr", "it", "es", "nl", "pl", "pt", "sv", "da", "fi", "cs"}
CATALOGS = sorted(LOCALES_DIR.glob("*/LC_MESSAGES/invoice.po"))


def read(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(text) if field is not None}


def catalog_problems(catalog: Catalog, template_ids: set[str]) -> list[str]:
    """What makes a catalog unfit to print: missing, fuzzy, extra or placeholder-changing messages."""
    problems = ["the catalog is marked fuzzy"] if catalog.fuzzy else []
    ids = {message.id for message in catalog if message.id}
    problems += [f"missing: {msgid!r}" for msgid in sorted(template_ids - ids)]
    problems += [f"not in the template: {msgid!r}" for msgid in sorted(ids - template_ids)]
    for message in catalog:
        if not message.id:
            continue
        assert isinstance(message.id, str) and isinstance(message.string, str)
        if not message.string:
            problems.append(f"untranslated: {message.id!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif placeholders(message.string) != placeholders(message.id):
            problems.append(f"placeholders differ: {message.id!r} -> {message.string!r}")
    return problems


def template_ids() -> set[str]:
    return {str(message.id) for message in read(LOCALES_DIR / "invoice.pot") if message.id}


def test_every_required_language_has_a_catalog() -> None:
    assert available_languages() >= REQUIRED


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parent.parent.name)
def test_catalog_is_complete_and_keeps_the_placeholders(path: Path) -> None:
    assert catalog_problems(read(path), template_ids()) == []


def test_catalog_check_finds_missing_fuzzy_and_changed_placeholders() -> None:
    catalog = Catalog(locale="fr", fuzzy=False)
    catalog.add("Invoice", "")
    catalog.add("Page {page} of {pages}", "Page {page} sur {total}")
    catalog.add("Qty", "Qté", flags=["fuzzy"])
    problems = catalog_problems(catalog, {"Invoice", "Page {page} of {pages}", "Qty", "VAT"})
    assert problems == [
        "missing: 'VAT'",
        "untranslated: 'Invoice'",
        "placeholders differ: 'Page {page} of {pages}' -> 'Page {page} sur {total}'",
        "fuzzy: 'Qty'",
    ]


def test_template_is_current_with_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "invoice.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    options = ["-F", "babel.cfg", "-k", "N_", "--no-location", "--omit-header"]
    subprocess.run(
        [str(pybabel), "extract", *options, "-o", str(fresh), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert {str(message.id) for message in read(fresh) if message.id} == template_ids(), "run `make pot`"


@pytest.mark.parametrize(
    ("order_language", "tenant_default", "language"),
    [
        ("fr", "de", "fr"),
        ("fr-FR", "en", "fr"),
        ("de-AT", "en", "de"),
        ("pt-BR", "de", "pt"),
        ("pt_BR", "de", "pt"),
        ("xx", "it", "it"),  # no catalog of the order's language: the tenant's
        ("xx", "xx", "en"),  # nor of the tenant's: English
        (None, "nl", "nl"),
        (None, None, "en"),
        ("not a tag", "pl", "pl"),
    ],
)
def test_language_chain(order_language: str | None, tenant_default: str | None, language: str) -> None:
    assert invoice_language(order_language, tenant_default) == language


@pytest.mark.parametrize(
    ("order_language", "language", "locale"),
    [
        (None, "en", "de_DE"),  # the tenant's language keeps the tenant's locale
        ("en", "en", "de_DE"),
        ("fr", "fr", "fr"),
        ("pt-BR", "pt", "pt_BR"),  # the pt catalog, Brazilian numbers and dates
        ("xx", "en", "de_DE"),
    ],
)
def test_locale_follows_the_language(order_language: str | None, language: str, locale: str) -> None:
    assert invoice_locale(order_language, language, "en", "de_DE") == locale


def test_french_invoice_pdf() -> None:
    entries = [{"id": "1", "product": {"name": "Machine à café"}, "amount": 1, "unitPrice": 1234.56, "taxRate": 20}]
    doc = document(entries=entries, shipping=None, seller={"language": "fr", "locale": "fr"})
    plain = words(pages_of(render_invoice_pdf(doc))[0])
    assert "Facture" in plain and "TVA" in plain and "N° de facture INV-000042" in plain
    assert "1 234,56 €" in plain  # French grouping and decimal comma, the sign after
    assert "25 nov. 2026" in plain
    assert "Invoice number" not in plain and "Page 1 sur 1" in plain


def test_italian_email() -> None:
    doc = document(seller={"language": "it", "locale": "it_IT", "legal_name": "Caffè Srl"})
    mail = invoice_mail_text(doc)
    assert mail.subject == "Fattura INV-000042 da Caffè Srl"
    assert mail.body.startswith("Gentile Erika Mustermann,\n\nin allegato trova la fattura INV-000042")
    assert "Cordiali saluti\nCaffè Srl" in mail.body
    assert mail.attachment_name == "Fattura-INV-000042.pdf"


def test_italian_credit_note_and_its_email() -> None:
    note = credit_note(language="it", locale="it_IT")
    plain = words(pages_of(render_invoice_pdf(note))[0])
    assert "Nota di credito" in plain and "Rettifica la fattura INV-000042" in plain
    assert invoice_mail_text(note).subject.startswith("Nota di credito CN-000007 da ")


def test_portuguese_falls_back_for_brazil() -> None:
    language = invoice_language("pt-BR", "en")
    doc = document(seller={"language": language, "locale": invoice_locale("pt-BR", language, "en", "en_GB")})
    assert invoice_mail_text(doc).subject.startswith("Fatura INV-000042 de ")


def test_legal_note_in_the_invoice_language() -> None:
    us_buyer = {"street": "5th Avenue 350", "zipCode": "10118", "city": "New York", "country": "US"}
    entries = [{"id": "1", "product": {"name": "Grinder"}, "amount": 1, "unitPrice": 100, "taxRate": 0}]
    doc = document(entries=entries, shipping=None, billingAddress=us_buyer, seller={"language": "fr"})
    plain = words(pages_of(render_invoice_pdf(doc))[0])
    assert "Exonération de TVA, exportation hors UE (art. 262 I du CGI)" in plain


def test_english_needs_no_catalog() -> None:
    doc = dataclasses.replace(document(), seller=dataclasses.replace(document().seller, language="en"))
    assert invoice_mail_text(doc).subject.startswith("Invoice INV-000042 from ")


def test_order_language_is_an_optional_bcp47_tag() -> None:
    event = order_event("shop", "order-9")
    assert parse_order_event(encoded(event)).order.language is None
    event["order"]["language"] = "pt-BR"
    assert parse_order_event(encoded(event)).order.language == "pt-BR"
    event["order"]["language"] = "fr; DROP"
    with pytest.raises(ValidationError):
        parse_order_event(encoded(event))
