"""invoicing.einvoice without validators: VAT categories, business terms that say what the PDF says,
exact amounts, and the errors that name a missing business term. Expected figures are the PDF's own
(read back with pypdf) or worked out by hand."""

import dataclasses
import io
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree
from pypdf import PdfReader

from invoicing.credit import CreditAsk, CreditedQuantity, credit_totals
from invoicing.document import DocumentKind, PrecedingInvoice
from invoicing.einvoice import (
    EU_COUNTRIES,
    BuyerReferenceSource,
    EInvoiceFormat,
    EInvoiceSettings,
    ElectronicAddress,
    InvalidVatCategory,
    MissingBusinessTerm,
    MissingExemptionReason,
    OrderFacts,
    TaxCategoryChoice,
    UnrepresentableAmount,
    VatCategory,
    business_terms,
    einvoice_xml,
    vat_legal_notes,
    vat_treatment,
)
from invoicing.einvoice.cii import RAM, RSM
from invoicing.einvoice.ubl import CAC, CBC
from invoicing.recalculation import Totals
from streams.rendering.pdf import render_invoice_pdf
from tests.einvoice_cases import PEPPOL_SETTINGS, SETTINGS, Case, cases, document, entries

CASES = {case.name: case for case in cases()}
NS = {"rsm": RSM, "ram": RAM, "cbc": CBC, "cac": CAC}


def cii(case: Case, settings: EInvoiceSettings = SETTINGS) -> etree._Element:
    return etree.fromstring(einvoice_xml(case.document, settings, EInvoiceFormat.FACTURX, case.facts))


def texts(root: etree._Element, path: str) -> list[str]:
    return [str(value) for value in root.xpath(f"{path}/text()", namespaces=NS)]


def one(root: etree._Element, path: str) -> str:
    [value] = texts(root, path)
    return value


# --- VAT categories -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "delivery_country", "buyer_vat_id", "category"),
    [
        ("19", "DE", None, VatCategory.STANDARD),
        ("7", "US", None, VatCategory.STANDARD),  # a rate above 0 is standard rated wherever the goods go
        ("0", "US", None, VatCategory.EXPORT),
        ("0", "CH", "CHE-123.456.789", VatCategory.EXPORT),
        ("0", "FR", "FR40303265045", VatCategory.INTRA_COMMUNITY),
        ("0", "FR", None, VatCategory.ZERO_RATED),  # a consumer in another EU country
        ("0", "DE", "DE111111125", VatCategory.ZERO_RATED),  # the seller's own country
        ("0", "DE", None, VatCategory.ZERO_RATED),
    ],
)
def test_category_derived_from_rate_and_where_the_goods_go(
    rate: str, delivery_country: str, buyer_vat_id: str | None, category: VatCategory
) -> None:
    treatment = vat_treatment(
        Decimal(rate), None, seller_country="DE", delivery_country=delivery_country, buyer_vat_id=buyer_vat_id
    )
    assert treatment.category is category
    assert treatment.rate == Decimal(rate)


def test_categories_without_vat_carry_their_vatex_code_and_a_note_in_the_sellers_language() -> None:
    export = vat_treatment(Decimal(0), None, seller_country="DE", delivery_country="US", buyer_vat_id=None)
    assert export.exemption_reason_code == "VATEX-EU-G"
    assert export.exemption_reason is not None and "export" in export.exemption_reason
    german = vat_treatment(
        Decimal(0), None, seller_country="DE", delivery_country="FR", buyer_vat_id="FR1", language="de"
    )
    assert german.exemption_reason_code == "VATEX-EU-IC"
    assert german.exemption_reason == "Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1b UStG)"
    standard = vat_treatment(Decimal(19), None, seller_country="DE", delivery_country="DE", buyer_vat_id=None)
    assert standard.exemption_reason is None and standard.exemption_reason_code is None  # BR-S-10


def test_explicit_category_wins_and_keeps_its_reason() -> None:
    exempt = TaxCategoryChoice(VatCategory.EXEMPT, "Heilbehandlung, § 4 Nr. 14 UStG", "VATEX-EU-132-1C")
    treatment = vat_treatment(Decimal(0), exempt, seller_country="DE", delivery_country="US", buyer_vat_id=None)
    assert (treatment.category, treatment.exemption_reason, treatment.exemption_reason_code) == (
        VatCategory.EXEMPT,
        "Heilbehandlung, § 4 Nr. 14 UStG",
        "VATEX-EU-132-1C",
    )
    reverse = vat_treatment(
        Decimal(0),
        TaxCategoryChoice(VatCategory.REVERSE_CHARGE),
        seller_country="DE",
        delivery_country="DE",
        buyer_vat_id=None,
    )
    assert reverse.category is VatCategory.REVERSE_CHARGE and reverse.exemption_reason_code == "VATEX-EU-AE"


@pytest.mark.parametrize(
    ("rate", "category"),
    [("0", VatCategory.STANDARD), ("19", VatCategory.ZERO_RATED), ("19", VatCategory.REVERSE_CHARGE)],
)
def test_explicit_category_that_cannot_go_with_the_rate_is_refused(rate: str, category: VatCategory) -> None:
    with pytest.raises(InvalidVatCategory, match=category.value):
        vat_treatment(
            Decimal(rate), TaxCategoryChoice(category), seller_country="DE", delivery_country="DE", buyer_vat_id=None
        )


def test_exempt_without_a_reason_is_refused_naming_bt_120() -> None:
    with pytest.raises(MissingExemptionReason, match="BT-120"):
        vat_treatment(
            Decimal(0),
            TaxCategoryChoice(VatCategory.EXEMPT),
            seller_country="DE",
            delivery_country="DE",
            buyer_vat_id=None,
        )


def test_eu_countries_are_the_27_member_states_by_iso_code() -> None:
    assert len(EU_COUNTRIES) == 27
    assert {"DE", "FR", "GR", "HR", "IE"} <= EU_COUNTRIES
    assert not {"EL", "GB", "CH", "NO", "US"} & EU_COUNTRIES


def test_one_breakdown_row_per_category_and_rate() -> None:
    mixed = dataclasses.replace(
        CASES["reverse-charge"],
        facts=OrderFacts(line_tax_categories={1: TaxCategoryChoice(VatCategory.REVERSE_CHARGE)}),
    )
    rows = business_terms(mixed.document, SETTINGS, mixed.facts).vat_breakdown
    # line 1 reverse charge, line 2 derived (0 %, buyer in FR with a VAT ID): intra-Community supply
    assert [(row.vat.category, row.vat.rate) for row in rows] == [
        (VatCategory.REVERSE_CHARGE, Decimal(0)),
        (VatCategory.INTRA_COMMUNITY, Decimal(0)),
    ]
    several = business_terms(CASES["several-rates-shipping"].document, SETTINGS).vat_breakdown
    assert [(row.vat.category, row.vat.rate, row.base, row.tax) for row in several] == [
        (VatCategory.STANDARD, Decimal(7), Decimal("5.00"), Decimal("0.35")),
        (VatCategory.STANDARD, Decimal(19), Decimal("44.88"), Decimal("8.53")),  # lines + shipping 4.90
    ]


def test_legal_notes_for_the_pdf() -> None:
    reverse = business_terms(CASES["reverse-charge"].document, SETTINGS, CASES["reverse-charge"].facts)
    assert vat_legal_notes(reverse) == (
        "Reverse charge: VAT is due from the recipient (Art. 196 Directive 2006/112/EC)",
    )
    assert vat_legal_notes(business_terms(CASES["one-rate"].document, SETTINGS)) == ()


# --- the XML says what the PDF says ---------------------------------------------------------------


def pdf_text(case: Case) -> str:
    pdf = render_invoice_pdf(case.document)
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def euro(amount: str) -> str:
    return f"€{Decimal(amount):,.2f}"


@pytest.mark.parametrize("name", ["several-rates-shipping", "discount", "free-line", "lines-200", "card-paid"])
def test_xml_totals_are_the_pdfs_totals(name: str) -> None:
    case = CASES[name]
    root, text = cii(case), pdf_text(case)
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert f"Subtotal (net) {euro(one(root, f'{summation}/ram:TaxBasisTotalAmount'))}" in text  # BT-109
    assert f"Total (EUR) {euro(one(root, f'{summation}/ram:GrandTotalAmount'))}" in text  # BT-112
    for row in root.xpath("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS):
        rate, base, tax = (
            one(row, f"ram:{name}") for name in ("RateApplicablePercent", "BasisAmount", "CalculatedAmount")
        )
        assert f"VAT {rate}% on {euro(base)} {euro(tax)}" in text  # BT-119, BT-116, BT-117
    for line in case.document.totals.lines:  # every line: BT-126, BT-153, BT-155, BT-131, BT-152
        assert f"{line.position} {line.description} {line.sku}" in text
        [element] = root.xpath(
            f"//ram:IncludedSupplyChainTradeLineItem[.//ram:LineID='{line.position}']", namespaces=NS
        )
        assert one(element, ".//ram:Name") == line.description
        assert Decimal(one(element, ".//ram:LineTotalAmount")) == line.net
        assert Decimal(one(element, ".//ram:BilledQuantity")) == line.quantity
        assert Decimal(one(element, ".//ram:RateApplicablePercent")) == line.tax_rate


def test_header_facts_parties_and_payment() -> None:
    case = CASES["invoice-due-iban"]
    root = cii(case)
    assert one(root, "//rsm:ExchangedDocument/ram:ID") == "INV-000042"  # BT-1
    assert one(root, "//ram:IssueDateTime/*") == "20261125"  # BT-2
    assert one(root, "//ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/*") == "20261122"  # BT-72
    assert one(root, "//ram:DueDateDateTime/*") == "20261209"  # BT-9: 14 days
    assert one(root, "//ram:SellerTradeParty/ram:Name") == "Invoice Service Demo GmbH"  # BT-27
    assert one(root, "//ram:SellerTradeParty//ram:ID[@schemeID='VA']") == "DE000000000"  # BT-31
    assert one(root, "//ram:BuyerTradeParty/ram:Name") == "Erika Mustermann"  # BT-44
    assert one(root, "//ram:BuyerTradeParty//ram:CityName") == "München"  # BT-52
    assert one(root, "//ram:SellerOrderReferencedDocument/ram:IssuerAssignedID") == "order-9"  # BT-14
    assert one(root, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "58"  # BT-81 SEPA transfer
    assert one(root, "//ram:IBANID") == "DE89370400440532013000"  # BT-84
    assert one(root, "//ram:DuePayableAmount") == "58.76"  # BT-115


def test_paid_invoice_owes_nothing() -> None:
    root = cii(CASES["card-paid"])
    assert one(root, "//ram:TotalPrepaidAmount") == one(root, "//ram:GrandTotalAmount") == "58.76"  # BT-113
    assert one(root, "//ram:DuePayableAmount") == "0.00"  # BT-115
    assert one(root, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "54"  # credit card
    assert one(root, "//ram:ApplicableTradeSettlementFinancialCard/ram:ID") == "4242"  # BT-87, last digits only
    assert not root.xpath("//ram:DueDateDateTime", namespaces=NS)


@pytest.mark.parametrize("fmt", list(EInvoiceFormat))
def test_amounts_have_exactly_two_decimals_and_add_up_exactly(fmt: EInvoiceFormat) -> None:
    case = CASES["lines-200"]
    settings = PEPPOL_SETTINGS if fmt is EInvoiceFormat.PEPPOL else SETTINGS
    facts = case.peppol_facts() if fmt is EInvoiceFormat.PEPPOL else case.facts
    root = etree.fromstring(einvoice_xml(case.document, settings, fmt, facts))
    amount_names = ("Amount", "LineTotalAmount", "BasisAmount", "CalculatedAmount", "ActualAmount")
    amounts = [
        element.text
        for element in root.iter()
        if isinstance(element.tag, str)
        and (element.tag.endswith("Amount") and "Price" not in element.tag)
        and etree.QName(element).localname not in ("PriceAmount",)
    ]
    assert amounts and all(re.fullmatch(r"-?\d+\.\d\d", value or "") for value in amounts), amount_names
    line_total = (
        "LineTotalAmount" if fmt.value.endswith("cii") or fmt is EInvoiceFormat.FACTURX else "LineExtensionAmount"
    )
    lines = root.xpath(f"//*[local-name()='{line_total}']/text()")
    *line_amounts, header = lines if line_total == "LineTotalAmount" else [*lines[1:], lines[0]]
    assert sum(Decimal(str(value)) for value in line_amounts) == Decimal(str(header)) == case.document.totals.subtotal


def test_unit_prices_keep_their_digits() -> None:
    screws = document(
        entries=[
            {"id": "1", "product": {"name": "Screw", "sku": "S-4"}, "amount": 1000, "unitPrice": 0.125, "taxRate": 7}
        ],
        shipping=None,
    )
    root = etree.fromstring(einvoice_xml(screws, SETTINGS))
    assert one(root, "//ram:NetPriceProductTradePrice/ram:ChargeAmount") == "0.125"
    assert one(root, "//ram:BilledQuantity") == "1000"
    assert one(root, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount") == "125.00"


def test_a_currency_with_three_decimals_cannot_be_written_exactly() -> None:
    kuwait = document(
        entries=[{"id": "1", "product": {"name": "Dates"}, "amount": 1, "unitPrice": 1.005, "taxRate": 0}],
        shipping=None,
        currency="KWD",
    )
    with pytest.raises(UnrepresentableAmount, match=r"1\.005"):
        einvoice_xml(kuwait, SETTINGS)


# --- a missing value a format needs names its business term ----------------------------------------


def _raises(terms: set[str]) -> Callable[[Callable[[], object]], None]:
    def check(make: Callable[[], object]) -> None:
        with pytest.raises(MissingBusinessTerm) as raised:
            make()
        assert terms <= set(raised.value.terms), raised.value
        for term in terms:
            assert term in str(raised.value)

    return check


def test_xrechnung_needs_the_seller_contact_and_addresses() -> None:
    case = CASES["one-rate"]
    bare = EInvoiceSettings()
    for fmt in (EInvoiceFormat.XRECHNUNG_CII, EInvoiceFormat.XRECHNUNG_UBL):
        _raises({"BT-34", "BT-41"})(lambda fmt=fmt: einvoice_xml(case.document, bare, fmt))  # type: ignore[misc]
    einvoice_xml(case.document, bare, EInvoiceFormat.FACTURX)  # EN 16931 needs none of them
    no_phone = dataclasses.replace(SETTINGS, contact_phone=None)
    _raises({"BT-42"})(lambda: einvoice_xml(case.document, no_phone, EInvoiceFormat.XRECHNUNG_UBL))


def test_xrechnung_needs_a_buyer_reference() -> None:
    settings = dataclasses.replace(SETTINGS, buyer_reference_source=BuyerReferenceSource.NONE)
    _raises({"BT-10"})(lambda: einvoice_xml(CASES["one-rate"].document, settings, EInvoiceFormat.XRECHNUNG_CII))
    fixed = dataclasses.replace(
        SETTINGS, buyer_reference_source=BuyerReferenceSource.FIXED, buyer_reference="04011000-12345-67"
    )
    root = etree.fromstring(einvoice_xml(CASES["one-rate"].document, fixed, EInvoiceFormat.XRECHNUNG_CII))
    assert one(root, "//ram:BuyerReference") == "04011000-12345-67"


def test_buyer_without_email_has_no_electronic_address() -> None:
    anonymous = document(customer={"name": "Erika Mustermann"})
    _raises({"BT-49"})(lambda: einvoice_xml(anonymous, SETTINGS, EInvoiceFormat.XRECHNUNG_UBL))


def test_peppol_needs_participant_ids_not_email() -> None:
    case = CASES["one-rate"]
    _raises({"BT-34-1", "BT-49-1"})(lambda: einvoice_xml(case.document, SETTINGS, EInvoiceFormat.PEPPOL))
    buyer = OrderFacts(buyer_electronic_address=ElectronicAddress("DE111111125", "9930"))
    einvoice_xml(case.document, PEPPOL_SETTINGS, EInvoiceFormat.PEPPOL, buyer)


def test_xrechnung_card_payment_needs_the_card_digits() -> None:
    case = CASES["card-paid"]
    _raises({"BT-87"})(lambda: einvoice_xml(case.document, SETTINGS, EInvoiceFormat.XRECHNUNG_CII))


def test_seller_without_vat_id_is_refused_naming_bt_31() -> None:
    only_tax_number = document(seller={"vat_id": None, "tax_number": "27/123/45678"})
    _raises({"BT-31"})(lambda: einvoice_xml(only_tax_number, SETTINGS))


TAX_NUMBER_AND_REGISTER = {"vat_id": None, "tax_number": "27/123/45678", "legal_registration_id": "HRB 12345 B"}


def test_a_seller_with_tax_number_and_register_entry_is_identified_by_both() -> None:
    registered = document(seller=TAX_NUMBER_AND_REGISTER)
    cii = etree.fromstring(einvoice_xml(registered, SETTINGS, EInvoiceFormat.XRECHNUNG_CII))
    seller = "//ram:SellerTradeParty"
    assert one(cii, f"{seller}/ram:SpecifiedLegalOrganization/ram:ID") == "HRB 12345 B"  # BT-30
    assert one(cii, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']") == "27/123/45678"  # BT-32
    assert texts(cii, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == []
    ubl = etree.fromstring(einvoice_xml(registered, SETTINGS, EInvoiceFormat.XRECHNUNG_UBL))
    assert one(ubl, "//cac:AccountingSupplierParty//cac:PartyLegalEntity/cbc:CompanyID") == "HRB 12345 B"


@pytest.mark.parametrize("name", ["intra-eu-supply", "us-export"])
def test_intra_community_supplies_and_exports_need_the_vat_id_even_with_a_register_entry(name: str) -> None:
    case = CASES[name]
    seller = dataclasses.replace(
        case.document.seller, vat_id=None, tax_number="27/123/45678", legal_registration_id="HRB 12345 B"
    )
    without_vat_id = dataclasses.replace(case.document, seller=seller)
    _raises({"BT-31"})(lambda: einvoice_xml(without_vat_id, SETTINGS, EInvoiceFormat.FACTURX, case.facts))


def test_every_case_maps_without_error() -> None:
    for case in cases():
        for fmt in EInvoiceFormat:
            peppol = fmt is EInvoiceFormat.PEPPOL
            xml = einvoice_xml(
                case.document,
                PEPPOL_SETTINGS if peppol else SETTINGS,
                fmt,
                case.peppol_facts() if peppol else case.facts,
            )
            assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_line_count_and_unit_price_of_200_lines() -> None:
    root = cii(CASES["lines-200"])
    assert len(texts(root, "//ram:LineID")) == 200
    assert texts(root, "//ram:SellerAssignedID") == [f"SKU-{i}" for i in range(1, 201)]
    assert entries(1)[0]["unitPrice"] == 1.5


@pytest.mark.parametrize("fmt", list(EInvoiceFormat), ids=str)
def test_line_texts_are_escaped_and_come_back_unchanged(fmt: EInvoiceFormat) -> None:
    name, sku = 'Tea & "Biscuits" <1 kg> {x}', "T&B-<1>"
    tea = document(
        entries=[{"id": "1", "product": {"name": name, "sku": sku}, "amount": 1, "unitPrice": 2, "taxRate": 7}]
    )
    peppol = fmt is EInvoiceFormat.PEPPOL
    facts = OrderFacts(buyer_electronic_address=ElectronicAddress("DE111111125", "9930")) if peppol else None
    root = etree.fromstring(einvoice_xml(tea, PEPPOL_SETTINGS if peppol else SETTINGS, fmt, facts))
    all_texts = [str(text) for text in root.xpath("//text()")]
    assert name in all_texts and sku in all_texts


def test_characters_xml_cannot_carry_are_refused() -> None:
    bell = document(entries=[{"id": "1", "product": {"name": "Bell \x07"}, "amount": 1, "unitPrice": 2, "taxRate": 7}])
    with pytest.raises(ValueError, match="XML cannot carry"):
        einvoice_xml(bell, SETTINGS)


# --- credit notes ---------------------------------------------------------------------------------


def credit_note_case(case: Case, credited: Totals | None = None) -> Case:
    """A credit note (by default of the whole invoice), made as the credit-note agent makes it."""
    invoice = case.document
    credited = credited or credit_totals(invoice.totals, [], CreditAsk(whole=True))
    note = dataclasses.replace(
        invoice,
        kind=DocumentKind.CREDIT_NOTE,
        invoice_number="CN-000001",
        invoice_date=date(2026, 12, 2),
        totals=credited,
        preceding_invoice=PrecedingInvoice(invoice.invoice_number, invoice.invoice_date),
    )
    return dataclasses.replace(case, name=f"{case.name}-credit-note", document=note)


def test_a_credit_note_is_type_381_naming_the_invoice_it_corrects() -> None:
    case = credit_note_case(CASES["invoice-due-iban"])
    root = cii(case)
    assert one(root, "//rsm:ExchangedDocument/ram:ID") == "CN-000001"  # BT-1
    assert one(root, "//rsm:ExchangedDocument/ram:TypeCode") == "381"  # BT-3: credit note
    assert one(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "INV-000042"  # BT-25
    assert one(root, "//ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/*") == "20261125"  # BT-26
    assert one(root, "//ram:GrandTotalAmount") == "58.76"  # positive amounts, as on the credit-note PDF
    ubl = etree.fromstring(einvoice_xml(case.document, SETTINGS, EInvoiceFormat.XRECHNUNG_UBL, case.facts))
    assert texts(ubl, "//cbc:InvoiceTypeCode") == ["381"]
    assert ubl.xpath("//*[local-name()='InvoiceDocumentReference']/cbc:ID/text()", namespaces=NS) == ["INV-000042"]


def test_an_invoice_names_no_preceding_invoice() -> None:
    root = cii(CASES["invoice-due-iban"])
    assert one(root, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert not root.xpath("//ram:InvoiceReferencedDocument", namespaces=NS)


def test_the_last_credit_note_states_the_tax_left_of_the_invoice() -> None:
    """2 x 0.03 at 19 %: the invoice's tax is 0.01, the first credit note's (one unit) 0.01, so the last
    one's is 0.00 though its base x rate rounds to 0.01. Its XML states the 0.00 of its PDF (BR-CO-17
    allows a unit of difference) instead of refusing to be made."""
    entry = {"id": "1", "product": {"name": "Pin", "sku": "P"}, "amount": 2, "unitPrice": 0.03, "taxRate": 19}
    invoice = document(entries=[entry], shipping=None)
    first = credit_totals(invoice.totals, [], CreditAsk(lines=(CreditedQuantity("1", Decimal(1)),)))
    last = credit_totals(invoice.totals, [first], CreditAsk(whole=True))
    assert (invoice.totals.tax_total, first.tax_total, last.tax_total) == (Decimal("0.01"), Decimal("0.01"), Decimal(0))
    case = credit_note_case(Case("tiny", invoice), last)
    root = cii(case)
    assert one(root, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CalculatedAmount") == "0.00"
    assert one(root, "//ram:GrandTotalAmount") == "0.03"
