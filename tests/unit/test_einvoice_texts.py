"""The words the e-invoice XML writes itself (BT-20, BT-82, BT-104, BT-139) come from the message catalogs,
in the invoice's language, in every catalog language and in both syntaxes."""

import pytest
from lxml import etree

from invoicing.einvoice import EInvoiceFormat, einvoice_xml
from invoicing.einvoice.cii import RAM, RSM
from invoicing.einvoice.texts import PAYABLE_BY, SHIPPING_CHARGE, einvoice_text
from invoicing.einvoice.ubl import CAC, CBC
from invoicing.language import available_languages
from tests.einvoice_cases import BANK, SETTINGS, document

NS = {"rsm": RSM, "ram": RAM, "cbc": CBC, "cac": CAC}
OTHER_LANGUAGES = sorted(available_languages() - {"en"})


def xpath(xml: bytes, path: str) -> list[str]:
    return [str(value) for value in etree.fromstring(xml).xpath(f"{path}/text()", namespaces=NS)]


def test_a_polish_invoice_states_its_terms_means_charge_and_discount_in_polish() -> None:
    made = document(
        seller={"language": "pl", "locale": "pl_PL", "bank": BANK},
        entries=[{"id": "1", "product": {"name": "Kubek"}, "amount": 2, "unitPrice": 10, "discount": 1, "taxRate": 23}],
        shipping={"amount": 5, "taxRate": 23},
        subTotalPrice=19,
        totalPrice=29.52,
    )
    cii = einvoice_xml(made, SETTINGS, EInvoiceFormat.FACTURX)
    terms = "Płatne do dnia 2026-12-09 bez potrąceń, z podaniem numeru faktury INV-000042."
    assert xpath(cii, "//ram:SpecifiedTradePaymentTerms/ram:Description") == [terms]
    assert xpath(cii, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:Information") == ["Przelew SEPA"]
    assert xpath(cii, "//ram:SpecifiedTradeAllowanceCharge/ram:Reason") == ["Rabat", "Koszty wysyłki"]
    ubl = einvoice_xml(made, SETTINGS, EInvoiceFormat.XRECHNUNG_UBL)
    assert xpath(ubl, "//cac:PaymentTerms/cbc:Note") == [terms]
    assert xpath(ubl, "//cac:AllowanceCharge/cbc:AllowanceChargeReason") == ["Koszty wysyłki", "Rabat"]


def test_a_paid_invoice_says_how_and_when_in_its_language() -> None:
    card = document(seller={"language": "de"}, payments=[{"method": "Kreditkarte", "status": "CAPTURED"}])
    assert xpath(einvoice_xml(card, SETTINGS), "//ram:SpecifiedTradePaymentTerms/ram:Description") == [
        "Bezahlt per Kreditkarte am 2026-11-25."
    ]
    paid = document(seller={"language": "fr"}, payments=[{"method": "", "status": "CAPTURED"}])
    assert xpath(einvoice_xml(paid, SETTINGS), "//ram:SpecifiedTradePaymentTerms/ram:Description") == [
        "Payée le 2026-11-25."
    ]


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_catalog_language_has_its_own_xml_wording(language: str) -> None:
    for message, values in ((PAYABLE_BY, {"date": "2026-12-09", "number": "INV-1"}), (SHIPPING_CHARGE, {})):
        text = einvoice_text(language, message, **values)
        assert text != einvoice_text("en", message, **values)
        assert all(value in text for value in values.values())
