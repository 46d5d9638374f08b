"""E-invoices (EN 16931) from the invoice document: Factur-X CII, XRechnung CII and UBL, Peppol BIS 3.0.

Pure: no I/O. `einvoice_xml(document, settings, fmt)` gives the XML bytes of one format, or raises
MissingBusinessTerm naming what the format needs and the invoice lacks. `business_terms()` in
invoicing.einvoice.terms is the one mapping from the document to BT/BG numbers (its payment
instructions and terms in invoicing.einvoice.payment).
"""

from decimal import Decimal

# The e-invoice settings live in invoicing.document: every invoice document freezes the ones it was made with.
from invoicing.document import (
    BuyerReferenceSource,
    EInvoiceSettings,
    ElectronicAddress,
    FacturXProfile,
    InvoiceDocument,
)
from invoicing.einvoice.cii import cii_invoice
from invoicing.einvoice.formats import (
    EInvoiceFormat,
    MissingBusinessTerm,
    Syntax,
    check_requirements,
    format_spec,
)
from invoicing.einvoice.notes import printed_french_notes
from invoicing.einvoice.payment import PaymentCard
from invoicing.einvoice.terms import (
    EInvoice,
    OrderFacts,
    TotalsMismatch,
    VatBreakdown,
    business_terms,
    order_choice,
    vat_treatments,
)
from invoicing.einvoice.ubl import ubl_invoice
from invoicing.einvoice.vat import (
    EU_COUNTRIES,
    InvalidVatCategory,
    MissingExemptionReason,
    TaxCategoryChoice,
    VatCategory,
    VatTreatment,
    legal_note,
    vat_treatment,
)
from invoicing.einvoice.xml import UnrepresentableAmount

FACTURX_FILENAME = "factur-x.xml"


def einvoice_xml(
    document: InvoiceDocument,
    settings: EInvoiceSettings,
    fmt: EInvoiceFormat = EInvoiceFormat.FACTURX,
    facts: OrderFacts | None = None,
) -> bytes:
    """The invoice in `fmt`, UTF-8 XML. For FACTURX, the settings' profile decides between EN 16931 and
    XRechnung CII (the XML to embed in the PDF as factur-x.xml)."""
    return xml_of(business_terms(document, settings, facts), fmt, settings.profile)


def xml_of(einvoice: EInvoice, fmt: EInvoiceFormat, profile: FacturXProfile = FacturXProfile.EN16931) -> bytes:
    spec = format_spec(fmt, profile)
    check_requirements(einvoice, fmt, spec)
    return cii_invoice(einvoice, spec) if spec.syntax is Syntax.CII else ubl_invoice(einvoice, spec)


# The order's or the tenant's data cannot make the e-invoice: the order fails, or the API answers 4xx.
EINVOICE_DATA_ERRORS = (MissingBusinessTerm, InvalidVatCategory, MissingExemptionReason, UnrepresentableAmount)


class EInvoiceRefused(ValueError):
    """One of EINVOICE_DATA_ERRORS as its message alone (naming the business terms), so that it crosses the
    render pool's process boundary: the originals take constructor arguments that pickling loses."""


def invoice_xml(document: InvoiceDocument, fmt: EInvoiceFormat = EInvoiceFormat.FACTURX) -> bytes:
    """The issued invoice's XML in `fmt`, with the e-invoice settings frozen in its document; for FACTURX
    exactly the factur-x.xml its PDF embeds."""
    try:
        return einvoice_xml(document, document.einvoice, fmt)
    except EINVOICE_DATA_ERRORS as error:
        raise EInvoiceRefused(str(error)) from None


def vat_legal_notes(einvoice: EInvoice) -> tuple[str, ...]:
    """The legal notes the PDF must print for the invoice's categories without VAT (reverse charge,
    intra-Community supply, export, exemptions), once each, in breakdown order."""
    notes = (legal_note(row.vat) for row in einvoice.vat_breakdown)
    return tuple(dict.fromkeys(note for note in notes if note))


def _document_choices(document: InvoiceDocument) -> list[tuple[Decimal, TaxCategoryChoice | None]]:
    """The rate and the order's explicit VAT category of each line, then of the shipping."""
    totals = document.totals
    choices = [(line.tax_rate, order_choice(line.tax)) for line in totals.lines]
    if totals.shipping_tax_rate is not None:
        choices.append((totals.shipping_tax_rate, order_choice(totals.shipping_tax)))
    return choices


def document_legal_notes(document: InvoiceDocument) -> tuple[str, ...]:
    """The legal notes the invoice PDF prints below its totals (reverse charge, intra-Community supply,
    export, exemptions), once each: those of the XML's categories, without making the whole XML; then a
    French seller's mentions (recovery fee, late-payment penalties, no early-payment discount)."""
    treatment = vat_treatments(document)
    notes = (legal_note(treatment(rate, choice)) for rate, choice in dict.fromkeys(_document_choices(document)))
    return tuple(dict.fromkeys(note for note in notes if note)) + printed_french_notes(document)


def document_vat_breakdown(document: InvoiceDocument) -> tuple[VatBreakdown, ...]:
    """BG-23 as the document states it, without making the whole XML: per VAT category (the order's, else
    derived, as the XML has it) and rate, the base and tax of the document's own rows (the PDF's figures),
    with the category's exemption reason; ordered by rate, then category."""
    treatment = vat_treatments(document)
    # The document's rows are per (explicit category or None, rate); the first line of each names its reason.
    first_choice: dict[tuple[str | None, Decimal], TaxCategoryChoice | None] = {}
    for rate, choice in _document_choices(document):
        first_choice.setdefault((choice.category.value if choice else None, rate), choice)
    rows: dict[tuple[VatCategory, Decimal], VatBreakdown] = {}
    for row in document.totals.taxes:
        vat = treatment(row.rate, first_choice.get((row.category, row.rate)))
        known = rows.get((vat.category, vat.rate))
        rows[(vat.category, vat.rate)] = (
            VatBreakdown(row.base, row.tax, vat)
            if known is None
            else VatBreakdown(known.base + row.base, known.tax + row.tax, known.vat)
        )
    return tuple(rows[key] for key in sorted(rows, key=lambda key: (key[1], key[0].value)))


__all__ = [
    "EINVOICE_DATA_ERRORS",
    "EU_COUNTRIES",
    "FACTURX_FILENAME",
    "BuyerReferenceSource",
    "EInvoice",
    "EInvoiceFormat",
    "EInvoiceRefused",
    "EInvoiceSettings",
    "ElectronicAddress",
    "FacturXProfile",
    "InvalidVatCategory",
    "MissingBusinessTerm",
    "MissingExemptionReason",
    "OrderFacts",
    "PaymentCard",
    "TaxCategoryChoice",
    "TotalsMismatch",
    "UnrepresentableAmount",
    "VatBreakdown",
    "VatCategory",
    "VatTreatment",
    "business_terms",
    "document_legal_notes",
    "document_vat_breakdown",
    "einvoice_xml",
    "invoice_xml",
    "legal_note",
    "order_choice",
    "vat_legal_notes",
    "vat_treatment",
    "vat_treatments",
    "xml_of",
]
