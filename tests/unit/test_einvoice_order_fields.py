"""The order contract's e-invoice fields (taxCategory, taxExemptionReason(+Code) per entry and for the
shipping, customer.peppolId, buyerReference) and the e-invoice settings: from the order event through
recalculation and the invoice document into the business terms, and kept with the stored document."""

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from infra.records import STORED_DOCUMENT
from invoicing.einvoice import (
    BuyerReferenceSource,
    EInvoiceFormat,
    EInvoiceRefused,
    EInvoiceSettings,
    ElectronicAddress,
    FacturXProfile,
    MissingBusinessTerm,
    VatCategory,
    business_terms,
    document_legal_notes,
    einvoice_xml,
    invoice_xml,
)
from invoicing.recalculation import TaxChoice, TaxRow, recalculate
from schemas.orders import parse_order_event
from tests.einvoice_cases import CUSTOMER, FR_BUYER, PEPPOL_SETTINGS, SETTINGS, document, entries
from tests.factories import encoded, order_event

FR_COMPANY = {**CUSTOMER, "company": "Conseil Lyon SAS", "vatId": "FR40303265045"}
ZERO = Decimal(0)


def zero_rated_order(**fields: Any) -> dict[str, Any]:
    """Two lines (2 x 1.50 = 3.00 and 3 x 2.50 = 7.50 net at 0 %), shipping 4.90 at 0 %: total 15.40."""
    lines = entries(2, rate=0)
    return {
        "entries": lines,
        "shipping": {"amount": 4.90, "taxRate": 0},
        "sub_total": "10.50",
        "total": "15.40",
    } | fields


def test_explicit_categories_and_reasons_reach_the_business_terms() -> None:
    order = zero_rated_order(billingAddress=FR_BUYER, customer=FR_COMPANY)
    order["entries"][0] |= {"taxCategory": "AE"}
    order["entries"][1] |= {"taxCategory": "E", "taxExemptionReason": "Steuerfrei nach § 4 Nr. 14 UStG"}
    order["shipping"] |= {"taxCategory": "O", "taxExemptionReasonCode": "VATEX-EU-O"}
    customer = order.pop("customer")
    einvoice = business_terms(document(customer=customer, **order), SETTINGS)
    assert [(line.vat.category, line.vat.exemption_reason_code) for line in einvoice.lines] == [
        (VatCategory.REVERSE_CHARGE, "VATEX-EU-AE"),
        (VatCategory.EXEMPT, None),
    ]
    assert einvoice.lines[1].vat.exemption_reason == "Steuerfrei nach § 4 Nr. 14 UStG"
    [shipping] = einvoice.charges
    assert (shipping.vat.category, shipping.vat.exemption_reason_code) == (VatCategory.NOT_SUBJECT, "VATEX-EU-O")
    # one breakdown row per category, all at 0 %
    assert sorted(row.vat.category.value for row in einvoice.vat_breakdown) == ["AE", "E", "O"]


def test_without_a_category_it_is_derived_as_before() -> None:
    order = zero_rated_order(billingAddress=FR_BUYER)
    customer = order.pop("customer", FR_COMPANY)
    einvoice = business_terms(document(customer=customer, **order), SETTINGS)
    assert {line.vat.category for line in einvoice.lines} == {VatCategory.INTRA_COMMUNITY}


def test_recalculation_groups_the_taxes_by_category_and_rate() -> None:
    event = order_event("shop", "o-1", **zero_rated_order())
    event["order"]["entries"][0]["taxCategory"] = "AE"
    totals = recalculate(parse_order_event(encoded(event)).order)
    assert totals.lines[0].tax == TaxChoice("AE") and totals.lines[1].tax is None
    assert totals.taxes == (
        TaxRow(rate=ZERO, base=Decimal("12.40"), tax=ZERO, category=None),  # line 2 (7.50) + shipping 4.90
        TaxRow(rate=ZERO, base=Decimal("3.00"), tax=ZERO, category="AE"),
    )
    assert totals.total == Decimal("15.40")
    # Without categories the rows are the rates' rows, as they always were.
    standard = recalculate(parse_order_event(encoded(order_event("shop", "o-2"))).order)
    assert [(row.rate, row.base, row.tax, row.category) for row in standard.taxes] == [
        (Decimal(7), Decimal("5.00"), Decimal("0.35"), None),
        (Decimal(19), Decimal("44.88"), Decimal("8.53"), None),
    ]


def test_reverse_charge_gives_the_pdf_its_legal_note() -> None:
    order = zero_rated_order(billingAddress=FR_BUYER)
    for entry in order["entries"]:
        entry["taxCategory"] = "AE"
    order["shipping"]["taxCategory"] = "AE"
    notes = document_legal_notes(document(customer=FR_COMPANY, **order))
    assert notes == ("Reverse charge: VAT is due from the recipient (Art. 196 Directive 2006/112/EC)",)
    assert document_legal_notes(document()) == ()


def test_peppol_id_is_the_buyers_electronic_address() -> None:
    invoice = document(customer={**CUSTOMER, "peppolId": "9930:DE111111125"})
    assert invoice.buyer.electronic_address == ElectronicAddress("DE111111125", "9930")
    assert business_terms(invoice, PEPPOL_SETTINGS).buyer.electronic_address == ElectronicAddress("DE111111125", "9930")
    assert b"DE111111125" in einvoice_xml(invoice, PEPPOL_SETTINGS, EInvoiceFormat.PEPPOL)
    with pytest.raises(MissingBusinessTerm, match="BT-49-1"):  # the e-mail address will not do for Peppol
        einvoice_xml(document(), PEPPOL_SETTINGS, EInvoiceFormat.PEPPOL)


@pytest.mark.parametrize(
    ("source", "fixed", "expected"),
    [
        (BuyerReferenceSource.ORDER_ID, None, "order-9"),
        (BuyerReferenceSource.ORDER_FIELD, None, "991-12345-67"),
        (BuyerReferenceSource.FIXED, "04011000-1234512345-06", "04011000-1234512345-06"),
        (BuyerReferenceSource.NONE, None, None),
    ],
)
def test_buyer_reference_comes_from_where_the_settings_say(
    source: BuyerReferenceSource, fixed: str | None, expected: str | None
) -> None:
    settings = dataclasses.replace(SETTINGS, buyer_reference_source=source, buyer_reference=fixed)
    invoice = document(buyerReference="991-12345-67")
    assert business_terms(invoice, settings).buyer_reference == expected


def test_frozen_settings_and_order_fields_survive_the_stored_document() -> None:
    order = zero_rated_order(billingAddress=FR_BUYER)
    order["entries"][0]["taxCategory"] = "AE"
    settings = EInvoiceSettings(
        profile=FacturXProfile.XRECHNUNG,
        seller_electronic_address=ElectronicAddress("DE000000000", "9930"),
        contact_name="Erika Beispiel",
        buyer_reference_source=BuyerReferenceSource.ORDER_FIELD,
    )
    invoice = dataclasses.replace(
        document(customer={**FR_COMPANY, "peppolId": "0088:4035811991021"}, buyerReference="R-1", **order),
        einvoice=settings,
    )
    stored = STORED_DOCUMENT.dump_python(invoice, mode="json")
    assert STORED_DOCUMENT.validate_python(stored) == invoice
    # A document stored before e-invoices has none of these: it gets the defaults.
    old = {key: value for key, value in stored.items() if key not in ("einvoice", "buyer_reference")}
    assert STORED_DOCUMENT.validate_python(old).einvoice == EInvoiceSettings()


def test_the_frozen_settings_decide_and_a_missing_term_is_refused_by_name() -> None:
    invoice = dataclasses.replace(document(), einvoice=EInvoiceSettings(profile=FacturXProfile.XRECHNUNG))
    with pytest.raises(EInvoiceRefused, match=r"BT-34 .*BT-41 ") as refused:
        invoice_xml(invoice)
    assert "facturx cannot be made" in str(refused.value)
    assert invoice_xml(dataclasses.replace(invoice, einvoice=SETTINGS)).startswith(b"<?xml")


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        ("entry", {"taxCategory": "X"}, "taxCategory"),
        ("entry", {"taxExemptionReasonCode": "EU-AE"}, "taxExemptionReasonCode"),
        ("shipping", {"taxCategory": "standard"}, "taxCategory"),
        ("customer", {"peppolId": "DE111111125"}, "peppolId"),
        ("order", {"buyerReference": ""}, "buyerReference"),
    ],
)
def test_bad_e_invoice_fields_of_an_order_are_refused_naming_the_field(
    where: str, value: dict[str, str], field: str
) -> None:
    event = order_event("shop", "o-1")
    order = event["order"]
    target = {"entry": order["entries"][0], "shipping": order["shipping"], "customer": order["customer"]}.get(
        where, order
    )
    target.update(value)
    with pytest.raises(ValidationError, match=field):
        parse_order_event(encoded(event))
