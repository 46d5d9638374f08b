"""The business terms in UN/CEFACT Cross Industry Invoice D16B syntax (Factur-X EN 16931, XRechnung CII).

Element order follows the D16B schema; each element names the business term it carries.
"""

from datetime import date

from lxml import etree

from invoicing.einvoice.formats import FormatSpec
from invoicing.einvoice.payment import PaymentInstructions
from invoicing.einvoice.terms import Address, Contact, EInvoice, Party
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

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP: dict[str | None, str] = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}


def _rsm(name: str) -> str:
    return f"{{{RSM}}}{name}"


def _ram(name: str) -> str:
    return f"{{{RAM}}}{name}"


def _date(parent: etree._Element, tag: str, value: date) -> None:
    """A date in format 102 (CCYYMMDD), the only one EN 16931 allows in CII."""
    sub(sub(parent, tag), f"{{{UDT}}}DateTimeString", value.strftime("%Y%m%d"), format="102")


def _address(parent: etree._Element, value: Address) -> None:
    element = sub(parent, _ram("PostalTradeAddress"))
    sub(element, _ram("PostcodeCode"), value.post_code)  # BT-38 / BT-53 / BT-78
    sub(element, _ram("LineOne"), value.line_one)  # BT-35 / BT-50 / BT-75
    sub(element, _ram("CityName"), value.city)  # BT-37 / BT-52 / BT-77
    sub(element, _ram("CountryID"), value.country)  # BT-40 / BT-55 / BT-80
    if value.subdivision:
        sub(element, _ram("CountrySubDivisionName"), value.subdivision)  # BT-39 / BT-54 / BT-79


def _contact(parent: etree._Element, value: Contact) -> None:
    element = sub(parent, _ram("DefinedTradeContact"))  # BG-6 / BG-9
    if value.name:
        sub(element, _ram("PersonName"), value.name)  # BT-41 / BT-56
    if value.phone:
        sub(sub(element, _ram("TelephoneUniversalCommunication")), _ram("CompleteNumber"), value.phone)
    if value.email:
        sub(sub(element, _ram("EmailURIUniversalCommunication")), _ram("URIID"), value.email)


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    element = sub(parent, _ram(tag))  # BG-4 / BG-7
    sub(element, _ram("Name"), party.name)  # BT-27 / BT-44
    if party.legal_registration_id:  # BT-30 / BT-47, with its scheme BT-30-1
        scheme: dict[str, str] = (
            {"schemeID": party.legal_registration_scheme} if party.legal_registration_scheme else {}
        )
        sub(sub(element, _ram("SpecifiedLegalOrganization")), _ram("ID"), party.legal_registration_id, **scheme)
    if party.contact is not None:
        _contact(element, party.contact)
    _address(element, party.address)  # BG-5 / BG-8
    if party.electronic_address is not None:  # BT-34 / BT-49
        communication = sub(element, _ram("URIUniversalCommunication"))
        sub(communication, _ram("URIID"), party.electronic_address.value, schemeID=party.electronic_address.scheme)
    if party.vat_id:  # BT-31 / BT-48
        sub(sub(element, _ram("SpecifiedTaxRegistration")), _ram("ID"), party.vat_id, schemeID="VA")
    if party.tax_number:  # BT-32
        sub(sub(element, _ram("SpecifiedTaxRegistration")), _ram("ID"), party.tax_number, schemeID="FC")


def _trade_tax(parent: etree._Element, tag: str, vat: VatTreatment) -> etree._Element:
    """Category and rate of a line (BT-151, BT-152) or charge (BT-102, BT-103). Category O has no rate
    (BR-O-05)."""
    element = sub(parent, _ram(tag))
    sub(element, _ram("TypeCode"), "VAT")
    sub(element, _ram("CategoryCode"), vat.category.value)
    if vat.category is not VatCategory.NOT_SUBJECT:
        sub(element, _ram("RateApplicablePercent"), decimal(vat.rate))
    return element


def _payment_means(parent: etree._Element, payment: PaymentInstructions) -> None:
    element = sub(parent, _ram("SpecifiedTradeSettlementPaymentMeans"))  # BG-16
    sub(element, _ram("TypeCode"), payment.means_code)  # BT-81
    if payment.means_text:
        sub(element, _ram("Information"), payment.means_text)  # BT-82
    if payment.card is not None:  # BG-18
        card = sub(element, _ram("ApplicableTradeSettlementFinancialCard"))
        sub(card, _ram("ID"), payment.card.last_digits)  # BT-87
        if payment.card.holder:
            sub(card, _ram("CardholderName"), payment.card.holder)  # BT-88
    if payment.credit_transfer is not None:  # BG-17
        transfer = payment.credit_transfer
        account = sub(element, _ram("PayeePartyCreditorFinancialAccount"))
        sub(account, _ram("IBANID"), transfer.iban)  # BT-84
        if transfer.account_name:
            sub(account, _ram("AccountName"), transfer.account_name)  # BT-85
        if transfer.bic:
            sub(sub(element, _ram("PayeeSpecifiedCreditorFinancialInstitution")), _ram("BICID"), transfer.bic)


def cii_invoice(einvoice: EInvoice, spec: FormatSpec) -> bytes:
    root = etree.Element(_rsm("CrossIndustryInvoice"), nsmap=NSMAP)
    context = sub(root, _rsm("ExchangedDocumentContext"))
    if spec.business_process:  # BT-23
        sub(sub(context, _ram("BusinessProcessSpecifiedDocumentContextParameter")), _ram("ID"), spec.business_process)
    sub(sub(context, _ram("GuidelineSpecifiedDocumentContextParameter")), _ram("ID"), spec.specification)  # BT-24

    document = sub(root, _rsm("ExchangedDocument"))
    sub(document, _ram("ID"), einvoice.number)  # BT-1
    sub(document, _ram("TypeCode"), einvoice.type_code)  # BT-3
    _date(document, _ram("IssueDateTime"), einvoice.issue_date)  # BT-2
    for note in einvoice.notes:  # BG-1
        included = sub(document, _ram("IncludedNote"))
        sub(included, _ram("Content"), note.text)  # BT-22
        if note.subject_code:
            sub(included, _ram("SubjectCode"), note.subject_code)  # BT-21

    transaction = sub(root, _rsm("SupplyChainTradeTransaction"))
    currency = einvoice.currency
    discount_reason = einvoice.line_allowance_reason  # BT-139

    def line_item(parent: etree._Element, texts: dict[str, str]) -> None:  # BG-25
        item = sub(parent, _ram("IncludedSupplyChainTradeLineItem"))
        sub(sub(item, _ram("AssociatedDocumentLineDocument")), _ram("LineID"), texts["id"])  # BT-126
        product = sub(item, _ram("SpecifiedTradeProduct"))  # BG-31
        if "sku" in texts:
            sub(product, _ram("SellerAssignedID"), texts["sku"])  # BT-155
        sub(product, _ram("Name"), texts["name"])  # BT-153
        agreement = sub(item, _ram("SpecifiedLineTradeAgreement"))
        sub(sub(agreement, _ram("NetPriceProductTradePrice")), _ram("ChargeAmount"), texts["price"])  # BT-146
        delivery = sub(item, _ram("SpecifiedLineTradeDelivery"))
        sub(delivery, _ram("BilledQuantity"), texts["quantity"], unitCode=texts["unit"])  # BT-129/130
        settlement = sub(item, _ram("SpecifiedLineTradeSettlement"))
        tax = sub(settlement, _ram("ApplicableTradeTax"))  # BG-30
        sub(tax, _ram("TypeCode"), "VAT")
        sub(tax, _ram("CategoryCode"), texts["category"])  # BT-151
        if "rate" in texts:  # BR-O-05: category O has no rate
            sub(tax, _ram("RateApplicablePercent"), texts["rate"])  # BT-152
        if "allowance" in texts:  # BG-27
            allowance = sub(settlement, _ram("SpecifiedTradeAllowanceCharge"))
            sub(sub(allowance, _ram("ChargeIndicator")), f"{{{UDT}}}Indicator", "false")
            sub(allowance, _ram("ActualAmount"), texts["allowance"])  # BT-136
            sub(allowance, _ram("ReasonCode"), "95")  # BT-140, UNTDID 5189 discount
            sub(allowance, _ram("Reason"), discount_reason)  # BT-139
        summation = sub(settlement, _ram("SpecifiedTradeSettlementLineMonetarySummation"))
        sub(summation, _ram("LineTotalAmount"), texts["net"])  # BT-131

    lines = repeated_elements(line_rows(einvoice.lines), line_item, NSMAP)
    transaction.append(etree.Comment(LINES_MARKER))  # BG-25, spliced in after serialization

    agreement = sub(transaction, _ram("ApplicableHeaderTradeAgreement"))
    if einvoice.buyer_reference:
        sub(agreement, _ram("BuyerReference"), einvoice.buyer_reference)  # BT-10
    _party(agreement, "SellerTradeParty", einvoice.seller)
    _party(agreement, "BuyerTradeParty", einvoice.buyer)
    order = sub(agreement, _ram("SellerOrderReferencedDocument"))
    sub(order, _ram("IssuerAssignedID"), einvoice.sales_order_reference)  # BT-14

    delivery = sub(transaction, _ram("ApplicableHeaderTradeDelivery"))
    if einvoice.delivery is not None:  # BG-13
        if einvoice.delivery.address is not None:
            ship_to = sub(delivery, _ram("ShipToTradeParty"))
            if einvoice.delivery.party_name:
                sub(ship_to, _ram("Name"), einvoice.delivery.party_name)  # BT-70
            _address(ship_to, einvoice.delivery.address)  # BG-15
        if einvoice.delivery.actual_date is not None:
            event = sub(delivery, _ram("ActualDeliverySupplyChainEvent"))
            _date(event, _ram("OccurrenceDateTime"), einvoice.delivery.actual_date)  # BT-72

    settlement = sub(transaction, _ram("ApplicableHeaderTradeSettlement"))
    sub(settlement, _ram("PaymentReference"), einvoice.payment.remittance_information)  # BT-83
    sub(settlement, _ram("InvoiceCurrencyCode"), currency)  # BT-5
    _payment_means(settlement, einvoice.payment)
    for row in einvoice.vat_breakdown:  # BG-23
        tax = sub(settlement, _ram("ApplicableTradeTax"))
        sub(tax, _ram("CalculatedAmount"), amount(row.tax))  # BT-117
        sub(tax, _ram("TypeCode"), "VAT")
        if row.vat.exemption_reason:
            sub(tax, _ram("ExemptionReason"), row.vat.exemption_reason)  # BT-120
        sub(tax, _ram("BasisAmount"), amount(row.base))  # BT-116
        sub(tax, _ram("CategoryCode"), row.vat.category.value)  # BT-118
        if row.vat.exemption_reason_code:
            sub(tax, _ram("ExemptionReasonCode"), row.vat.exemption_reason_code)  # BT-121
        if row.vat.category is not VatCategory.NOT_SUBJECT:
            sub(tax, _ram("RateApplicablePercent"), decimal(row.vat.rate))  # BT-119
    for charge in einvoice.charges:  # BG-21
        element = sub(settlement, _ram("SpecifiedTradeAllowanceCharge"))
        sub(sub(element, _ram("ChargeIndicator")), f"{{{UDT}}}Indicator", "true")
        sub(element, _ram("ActualAmount"), amount(charge.amount))  # BT-99
        sub(element, _ram("ReasonCode"), charge.reason_code)  # BT-105
        sub(element, _ram("Reason"), charge.reason)  # BT-104
        _trade_tax(element, "CategoryTradeTax", charge.vat)  # BT-102, BT-103
    terms = sub(settlement, _ram("SpecifiedTradePaymentTerms"))
    sub(terms, _ram("Description"), einvoice.payment_terms)  # BT-20
    if einvoice.due_date is not None:
        _date(terms, _ram("DueDateDateTime"), einvoice.due_date)  # BT-9

    totals = einvoice.totals
    summation = sub(settlement, _ram("SpecifiedTradeSettlementHeaderMonetarySummation"))  # BG-22
    sub(summation, _ram("LineTotalAmount"), amount(totals.line_total))  # BT-106
    if einvoice.charges:
        sub(summation, _ram("ChargeTotalAmount"), amount(totals.charge_total))  # BT-108
    sub(summation, _ram("TaxBasisTotalAmount"), amount(totals.tax_exclusive))  # BT-109
    sub(summation, _ram("TaxTotalAmount"), amount(totals.tax_total), currencyID=currency)  # BT-110
    sub(summation, _ram("GrandTotalAmount"), amount(totals.tax_inclusive))  # BT-112
    if totals.paid:
        sub(summation, _ram("TotalPrepaidAmount"), amount(totals.paid))  # BT-113
    sub(summation, _ram("DuePayableAmount"), amount(totals.due))  # BT-115
    if einvoice.preceding_invoice is not None:  # BG-3, a credit note's corrected invoice
        reference = sub(settlement, _ram("InvoiceReferencedDocument"))
        sub(reference, _ram("IssuerAssignedID"), einvoice.preceding_invoice.number)  # BT-25
        issued = sub(reference, _ram("FormattedIssueDateTime"))  # BT-26
        sub(issued, f"{{{QDT}}}DateTimeString", einvoice.preceding_invoice.issue_date.strftime("%Y%m%d"), format="102")
    return spliced(serialized(root), lines)
