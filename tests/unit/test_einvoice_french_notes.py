"""A French seller's e-invoice: the SIREN as BT-30 with scheme 0002 and the notes PMT, PMD and AAB in French
(BR-FR-05, BR-FR-10), in CII and UBL; other sellers' invoices carry none of it. The settings check a SIREN."""

import dataclasses

import pytest
from lxml import etree
from pydantic import ValidationError

from invoicing.einvoice import EInvoiceFormat, einvoice_xml
from invoicing.einvoice.cii import RAM, RSM
from invoicing.einvoice.notes import legal_registration_scheme, siren_ok
from invoicing.einvoice.ubl import CAC, CBC
from schemas.settings import SellerSettings
from streams.rendering.pdf import render_invoice_pdf
from tests.einvoice_cases import PEPPOL_SETTINGS, SETTINGS, cases
from tests.unit.test_rendering import pages_of, words

NS = {"rsm": RSM, "ram": RAM, "cbc": CBC, "cac": CAC}
CASES = {case.name: case for case in cases()}
FRENCH = CASES["french-seller-gross"].document


def xpath(xml: bytes, path: str) -> list[str]:
    return [str(value) for value in etree.fromstring(xml).xpath(path, namespaces=NS)]


def test_a_french_sellers_cii_has_the_siren_and_the_three_notes_in_french() -> None:
    xml = einvoice_xml(FRENCH, SETTINGS, EInvoiceFormat.FACTURX)
    assert xpath(xml, "//ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID/text()") == ["552120222"]
    assert xpath(xml, "//ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID/@schemeID") == ["0002"]
    notes = etree.fromstring(xml).xpath("//rsm:ExchangedDocument/ram:IncludedNote", namespaces=NS)
    by_code = {note.findtext(f"{{{RAM}}}SubjectCode"): note.findtext(f"{{{RAM}}}Content") for note in notes}
    assert set(by_code) == {"PMT", "PMD", "AAB"}
    assert "indemnité forfaitaire pour frais de recouvrement de 40,00\xa0€" in by_code["PMT"]
    assert by_code["PMD"].startswith("Pénalités de retard : trois fois le taux d'intérêt légal")
    assert by_code["AAB"] == "Pas d'escompte pour paiement anticipé."


def test_a_french_sellers_ubl_prefixes_each_note_with_its_subject_code() -> None:
    xml = einvoice_xml(FRENCH, SETTINGS, EInvoiceFormat.XRECHNUNG_UBL)
    notes = xpath(xml, "/*/cbc:Note/text()")
    assert [note[:5] for note in notes] == ["#PMT#", "#PMD#", "#AAB#"]
    assert xpath(xml, "//cac:AccountingSupplierParty//cac:PartyLegalEntity/cbc:CompanyID/@schemeID") == ["0002"]


def test_a_french_seller_without_bt_34_is_reached_at_its_email() -> None:
    xml = einvoice_xml(FRENCH, dataclasses.replace(SETTINGS, seller_electronic_address=None), EInvoiceFormat.FACTURX)
    path = "//ram:SellerTradeParty/ram:URIUniversalCommunication/ram:URIID"
    assert xpath(xml, f"{path}/text()") == ["factures@cafe-lumiere.example"]
    assert xpath(xml, f"{path}/@schemeID") == ["EM"]
    german = CASES["german-seller"].document
    unset = einvoice_xml(german, dataclasses.replace(SETTINGS, seller_electronic_address=None), EInvoiceFormat.FACTURX)
    assert xpath(unset, f"{path}/text()") == []


def test_peppol_takes_the_notes_as_one_without_subject_codes() -> None:
    case = CASES["french-seller-gross"]
    [note] = xpath(
        einvoice_xml(FRENCH, PEPPOL_SETTINGS, EInvoiceFormat.PEPPOL, case.peppol_facts()), "/*/cbc:Note/text()"
    )
    assert "#" not in note and note.endswith("Pas d'escompte pour paiement anticipé.")


def test_the_french_notes_stay_french_in_an_invoice_of_another_language() -> None:
    english = dataclasses.replace(FRENCH, seller=dataclasses.replace(FRENCH.seller, language="en", locale="en_GB"))
    xml = einvoice_xml(english, SETTINGS, EInvoiceFormat.FACTURX)
    assert "Pas d'escompte pour paiement anticipé." in xpath(xml, "//ram:IncludedNote/ram:Content/text()")


def test_the_pdf_of_a_french_seller_prints_the_mentions_in_the_invoices_language() -> None:
    french = words(pages_of(render_invoice_pdf(FRENCH))[-1])
    assert "Pas d'escompte pour paiement anticipé." in french
    assert "indemnité forfaitaire pour frais de recouvrement de 40,00 €" in french
    english = dataclasses.replace(FRENCH, seller=dataclasses.replace(FRENCH.seller, language="en", locale="en_GB"))
    text = words(pages_of(render_invoice_pdf(english))[-1])
    assert "No discount for early payment." in text and "a fixed compensation of €40.00" in text
    german = words(pages_of(render_invoice_pdf(CASES["german-seller"].document))[-1])
    assert "Skonto" not in german and "L441-10" not in german


def test_other_sellers_have_no_french_notes_and_no_scheme_for_a_register_entry() -> None:
    xml = einvoice_xml(CASES["tax-number-and-register"].document, SETTINGS, EInvoiceFormat.FACTURX)
    assert xpath(xml, "//ram:IncludedNote/ram:SubjectCode/text()") == []
    assert xpath(xml, "//ram:SpecifiedLegalOrganization/ram:ID/@schemeID") == []
    footer = CASES["german-seller"].document
    assert xpath(einvoice_xml(footer, SETTINGS), "//ram:IncludedNote/ram:Content/text()") == [footer.seller.footer]


def test_the_scheme_is_the_sellers_own_else_0002_for_a_french_siren() -> None:
    seller = FRENCH.seller
    assert legal_registration_scheme(seller) == "0002"
    assert legal_registration_scheme(dataclasses.replace(seller, legal_registration_id="RCS Paris B 552")) is None
    assert legal_registration_scheme(dataclasses.replace(seller, legal_registration_scheme="0009")) == "0009"
    german = CASES["german-seller"].document.seller
    assert legal_registration_scheme(dataclasses.replace(german, legal_registration_id="552120222")) is None


@pytest.mark.parametrize(
    ("siren", "ok"),
    [("552120222", True), ("732829320", True), ("552120223", False), ("55212022", False), ("55212022a", False)],
)
def test_siren_is_nine_digits_with_a_luhn_checksum(siren: str, ok: bool) -> None:
    assert siren_ok(siren) is ok


SELLER = {
    "legalName": "Café Lumière SAS",
    "address": {"street": "Rue du Faubourg Saint-Antoine 12", "zipCode": "75011", "city": "Paris", "country": "FR"},
    "vatId": "FR27552120222",
}


def test_seller_settings_take_a_siren_with_its_scheme_and_refuse_a_bad_one() -> None:
    settings = SellerSettings.model_validate(
        {**SELLER, "legalRegistrationId": "552 120 222", "legalRegistrationScheme": "0002"}
    )
    assert settings.legalRegistrationScheme == "0002"
    with pytest.raises(ValidationError, match="no SIREN"):
        SellerSettings.model_validate(
            {**SELLER, "legalRegistrationId": "552 120 223", "legalRegistrationScheme": "0002"}
        )
    with pytest.raises(ValidationError, match="needs the legalRegistrationId"):
        SellerSettings.model_validate({**SELLER, "legalRegistrationScheme": "0002"})
    with pytest.raises(ValidationError, match="legalRegistrationScheme"):
        SellerSettings.model_validate(
            {**SELLER, "legalRegistrationId": "552120222", "legalRegistrationScheme": "SIREN"}
        )
