"""The business terms in OASIS UBL 2.1 Invoice syntax (XRechnung UBL, Peppol BIS Billing 3.0).

Element order follows the UBL 2.1 schema; each element names the business term it carries.
"""

from lxml import etree

from invoicing.einvoice.formats import FormatSpec
from invoicing.einvoice.payment import PaymentInstructions
from invoicing.einvoice.terms import Address, EInvoice, Party
from invoicing.einvoice.vat import VatCategory, VatTreatment
from invoicing.einvoice.xml import (
    LINES_MARKER,
    amount,
    decimal,
    line_rows,
    repeated_elements,
    serialized,
    spliced,
    sub,
)

INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NSMAP: dict[str | None, str] = {None: INVOICE, "cac": CAC, "cbc": CBC}


def _cac(name: str) -> str:
    return f"{{{CAC}}}{name}"


def _cbc(name: str) -> str:
    return f"{{{CBC}}}{name}"


def _address(parent: etree._Element, tag: str, value: Address) -> None:
    element = sub(parent, _cac(tag))
    sub(element, _cbc("StreetName"), value.line_one)  # BT-35 / BT-50 / BT-75
    sub(element, _cbc("CityName"), value.city)  # BT-37 / BT-52 / BT-77
    sub(element, _cbc("PostalZone"), value.post_code)  # BT-38 / BT-53 / BT-78
    if value.subdivision:
        sub(element, _cbc("CountrySubentity"), value.subdivision)  # BT-39 / BT-54 / BT-79
    sub(sub(element, _cac("Country")), _cbc("IdentificationCode"), value.country)  # BT-40 / BT-55 / BT-80


def _tax_scheme(parent: etree._Element, tax_scheme: str = "VAT") -> None:
    sub(sub(parent, _cac("TaxScheme")), _cbc("ID"), tax_scheme)


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    element = sub(sub(parent, _cac(tag)), _cac("Party"))  # BG-4 / BG-7
    if party.electronic_address is not None:  # BT-34 / BT-49
        address = party.electronic_address
        sub(element, _cbc("EndpointID"), address.value, schemeID=address.scheme)
    _address(element, "PostalAddress", party.address)  # BG-5 / BG-8
    if party.vat_id:  # BT-31 / BT-48
        scheme = sub(element, _cac("PartyTaxScheme"))
        sub(scheme, _cbc("CompanyID"), party.vat_id)
        _tax_scheme(scheme)
    if party.tax_number:  # BT-32: a tax scheme other than VAT
        scheme = sub(element, _cac("PartyTaxScheme"))
        sub(scheme, _cbc("CompanyID"), party.tax_number)
        _tax_scheme(scheme, "FC")
    legal_entity = sub(element, _cac("PartyLegalEntity"))
    sub(legal_entity, _cbc("RegistrationName"), party.name)  # BT-27 / BT-44
    if party.legal_registration_id:  # BT-30 / BT-47, with its scheme BT-30-1
        registration_scheme = {"schemeID": party.legal_registration_scheme} if party.legal_registration_scheme else {}
        sub(legal_entity, _cbc("CompanyID"), party.legal_registration_id, **registration_scheme)
    contact = party.contact
    if contact is not None:  # BG-6 / BG-9
        contact_element = sub(element, _cac("Contact"))
        if contact.name:
            sub(contact_element, _cbc("Name"), contact.name)  # BT-41 / BT-56
        if contact.phone:
            sub(contact_element, _cbc("Telephone"), contact.phone)  # BT-42 / BT-57
        if contact.email:
            sub(contact_element, _cbc("ElectronicMail"), contact.email)  # BT-43 / BT-58


def _tax_category(parent: etree._Element, tag: str, vat: VatTreatment, *, with_reason: bool = False) -> None:
    element = sub(parent, _cac(tag))
    sub(element, _cbc("ID"), vat.category.value)  # BT-151 / BT-102 / BT-118
    if vat.category is not VatCategory.NOT_SUBJECT:  # BR-O-05: category O has no rate
        sub(element, _cbc("Percent"), decimal(vat.rate))  # BT-152 / BT-103 / BT-119
    if with_reason and vat.exemption_reason_code:
        sub(element, _cbc("TaxExemptionReasonCode"), vat.exemption_reason_code)  # BT-121
    if with_reason and vat.exemption_reason:
        sub(element, _cbc("TaxExemptionReason"), vat.exemption_reason)  # BT-120
    _tax_scheme(element)


def _payment_means(parent: etree._Element, payment: PaymentInstructions) -> None:
    element = sub(parent, _cac("PaymentMeans"))  # BG-16
    if payment.means_text:  # BT-81, BT-82
        sub(element, _cbc("PaymentMeansCode"), payment.means_code, name=payment.means_text)
    else:
        sub(element, _cbc("PaymentMeansCode"), payment.means_code)
    sub(element, _cbc("PaymentID"), payment.remittance_information)  # BT-83
    if payment.card is not None:  # BG-18
        card = sub(element, _cac("CardAccount"))
        sub(card, _cbc("PrimaryAccountNumberID"), payment.card.last_digits)  # BT-87
        # UBL requires the card network, which EN 16931 does not know; "NA" where the order does not say.
        sub(card, _cbc("NetworkID"), payment.card.network or "NA")
        if payment.card.holder:
            sub(card, _cbc("HolderName"), payment.card.holder)  # BT-88
    if payment.credit_transfer is not None:  # BG-17
        transfer = payment.credit_transfer
        account = sub(element, _cac("PayeeFinancialAccount"))
        sub(account, _cbc("ID"), transfer.iban)  # BT-84
        if transfer.account_name:
            sub(account, _cbc("Name"), transfer.account_name)  # BT-85
        if transfer.bic:
            sub(sub(account, _cac("FinancialInstitutionBranch")), _cbc("ID"), transfer.bic)  # BT-86


def ubl_invoice(einvoice: EInvoice, spec: FormatSpec) -> bytes:
    root = etree.Element(f"{{{INVOICE}}}Invoice", nsmap=NSMAP)
    currency = einvoice.currency
    sub(root, _cbc("CustomizationID"), spec.specification)  # BT-24
    if spec.business_process:
        sub(root, _cbc("ProfileID"), spec.business_process)  # BT-23
    sub(root, _cbc("ID"), einvoice.number)  # BT-1
    sub(root, _cbc("IssueDate"), einvoice.issue_date.isoformat())  # BT-2
    if einvoice.due_date is not None:
        sub(root, _cbc("DueDate"), einvoice.due_date.isoformat())  # BT-9
    sub(root, _cbc("InvoiceTypeCode"), einvoice.type_code)  # BT-3
    notes = [f"#{note.subject_code}#{note.text}" if note.subject_code else note.text for note in einvoice.notes]
    if spec.one_note and len(notes) > 1:  # Peppol: one note, the texts of all without their subject codes
        notes = [" ".join(note.text for note in einvoice.notes)]
    for note in notes:  # BG-1: the subject code (BT-21) as UBL's "#code#" prefix of the text (BT-22)
        sub(root, _cbc("Note"), note)
    sub(root, _cbc("DocumentCurrencyCode"), currency)  # BT-5
    if einvoice.buyer_reference:
        sub(root, _cbc("BuyerReference"), einvoice.buyer_reference)  # BT-10
    order = sub(root, _cac("OrderReference"))
    # UBL's OrderReference needs an ID (BT-13, the buyer's purchase order), which a shop order has not:
    # "NA" as Peppol BIS 3.0 prescribes when only the sales order reference (BT-14) is known.
    sub(order, _cbc("ID"), "NA")
    sub(order, _cbc("SalesOrderID"), einvoice.sales_order_reference)  # BT-14
    if einvoice.preceding_invoice is not None:  # BG-3, a credit note's corrected invoice
        reference = sub(sub(root, _cac("BillingReference")), _cac("InvoiceDocumentReference"))
        sub(reference, _cbc("ID"), einvoice.preceding_invoice.number)  # BT-25
        sub(reference, _cbc("IssueDate"), einvoice.preceding_invoice.issue_date.isoformat())  # BT-26
    _party(root, "AccountingSupplierParty", einvoice.seller)
    _party(root, "AccountingCustomerParty", einvoice.buyer)
    if einvoice.delivery is not None:  # BG-13
        delivery = sub(root, _cac("Delivery"))
        if einvoice.delivery.actual_date is not None:
            sub(delivery, _cbc("ActualDeliveryDate"), einvoice.delivery.actual_date.isoformat())  # BT-72
        if einvoice.delivery.address is not None:
            _address(sub(delivery, _cac("DeliveryLocation")), "Address", einvoice.delivery.address)  # BG-15
        if einvoice.delivery.party_name:
            party = sub(delivery, _cac("DeliveryParty"))
            sub(sub(party, _cac("PartyName")), _cbc("Name"), einvoice.delivery.party_name)  # BT-70
    _payment_means(root, einvoice.payment)
    sub(sub(root, _cac("PaymentTerms")), _cbc("Note"), einvoice.payment_terms)  # BT-20
    for charge in einvoice.charges:  # BG-21
        element = sub(root, _cac("AllowanceCharge"))
        sub(element, _cbc("ChargeIndicator"), "true")
        sub(element, _cbc("AllowanceChargeReasonCode"), charge.reason_code)  # BT-105
        sub(element, _cbc("AllowanceChargeReason"), charge.reason)  # BT-104
        sub(element, _cbc("Amount"), amount(charge.amount), currencyID=currency)  # BT-99
        _tax_category(element, "TaxCategory", charge.vat)  # BT-102, BT-103

    tax_total = sub(root, _cac("TaxTotal"))
    sub(tax_total, _cbc("TaxAmount"), amount(einvoice.totals.tax_total), currencyID=currency)  # BT-110
    for row in einvoice.vat_breakdown:  # BG-23
        subtotal = sub(tax_total, _cac("TaxSubtotal"))
        sub(subtotal, _cbc("TaxableAmount"), amount(row.base), currencyID=currency)  # BT-116
        sub(subtotal, _cbc("TaxAmount"), amount(row.tax), currencyID=currency)  # BT-117
        _tax_category(subtotal, "TaxCategory", row.vat, with_reason=True)

    totals = einvoice.totals
    monetary = sub(root, _cac("LegalMonetaryTotal"))  # BG-22
    sub(monetary, _cbc("LineExtensionAmount"), amount(totals.line_total), currencyID=currency)  # BT-106
    sub(monetary, _cbc("TaxExclusiveAmount"), amount(totals.tax_exclusive), currencyID=currency)  # BT-109
    sub(monetary, _cbc("TaxInclusiveAmount"), amount(totals.tax_inclusive), currencyID=currency)  # BT-112
    if einvoice.charges:
        sub(monetary, _cbc("ChargeTotalAmount"), amount(totals.charge_total), currencyID=currency)  # BT-108
    if totals.paid:
        sub(monetary, _cbc("PrepaidAmount"), amount(totals.paid), currencyID=currency)  # BT-113
    sub(monetary, _cbc("PayableAmount"), amount(totals.due), currencyID=currency)  # BT-115

    discount_reason = einvoice.line_allowance_reason  # BT-139

    def invoice_line(parent: etree._Element, texts: dict[str, str]) -> None:  # BG-25
        element = sub(parent, _cac("InvoiceLine"))
        sub(element, _cbc("ID"), texts["id"])  # BT-126
        sub(element, _cbc("InvoicedQuantity"), texts["quantity"], unitCode=texts["unit"])  # BT-129, BT-130
        sub(element, _cbc("LineExtensionAmount"), texts["net"], currencyID=currency)  # BT-131
        if "allowance" in texts:  # BG-27
            allowance = sub(element, _cac("AllowanceCharge"))
            sub(allowance, _cbc("ChargeIndicator"), "false")
            sub(allowance, _cbc("AllowanceChargeReasonCode"), "95")  # BT-140, UNTDID 5189 discount
            sub(allowance, _cbc("AllowanceChargeReason"), discount_reason)
            sub(allowance, _cbc("Amount"), texts["allowance"], currencyID=currency)  # BT-136
        item = sub(element, _cac("Item"))  # BG-31
        sub(item, _cbc("Name"), texts["name"])  # BT-153
        if "sku" in texts:
            sub(sub(item, _cac("SellersItemIdentification")), _cbc("ID"), texts["sku"])  # BT-155
        category = sub(item, _cac("ClassifiedTaxCategory"))  # BG-30
        sub(category, _cbc("ID"), texts["category"])  # BT-151
        if "rate" in texts:  # BR-O-05: category O has no rate
            sub(category, _cbc("Percent"), texts["rate"])  # BT-152
        _tax_scheme(category)
        sub(sub(element, _cac("Price")), _cbc("PriceAmount"), texts["price"], currencyID=currency)  # BT-146

    lines = repeated_elements(line_rows(einvoice.lines), invoice_line, NSMAP)
    root.append(etree.Comment(LINES_MARKER))  # BG-25, spliced in after serialization
    return spliced(serialized(root), lines)
