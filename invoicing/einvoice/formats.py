"""The four e-invoice formats: their specification identifiers, and what each needs beyond EN 16931.

A value a format needs and the invoice lacks is refused here, before any XML is written, with an error
naming the business term: an invalid file is never produced.
"""

from dataclasses import dataclass
from enum import StrEnum

from invoicing.document import EMAIL_SCHEME, FacturXProfile
from invoicing.einvoice.payment import MEANS_CREDIT_CARD
from invoicing.einvoice.terms import EInvoice
from invoicing.einvoice.vat import VatCategory


class EInvoiceFormat(StrEnum):
    FACTURX = "facturx"  # the CII embedded in the PDF (Factur-X / ZUGFeRD), profile per settings
    XRECHNUNG_CII = "xrechnung-cii"
    XRECHNUNG_UBL = "xrechnung-ubl"
    PEPPOL = "peppol"  # Peppol BIS Billing 3.0 (UBL)


class Syntax(StrEnum):
    CII = "CII"  # UN/CEFACT Cross Industry Invoice D16B
    UBL = "UBL"  # OASIS UBL 2.1 Invoice


EN16931 = "urn:cen.eu:en16931:2017"
XRECHNUNG_3 = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
PEPPOL_BIS_3 = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_BILLING_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


@dataclass(frozen=True)
class FormatSpec:
    syntax: Syntax
    specification: str  # BT-24
    business_process: str | None  # BT-23
    strict: bool  # XRechnung and Peppol need electronic addresses, contacts, a buyer reference
    one_note: bool = False  # Peppol allows one document level note (PEPPOL-EN16931-R002)


def format_spec(fmt: EInvoiceFormat, profile: FacturXProfile = FacturXProfile.EN16931) -> FormatSpec:
    match fmt:
        case EInvoiceFormat.FACTURX if profile is FacturXProfile.EN16931:
            return FormatSpec(Syntax.CII, EN16931, None, strict=False)
        case EInvoiceFormat.FACTURX | EInvoiceFormat.XRECHNUNG_CII:
            return FormatSpec(Syntax.CII, XRECHNUNG_3, PEPPOL_BILLING_PROCESS, strict=True)
        case EInvoiceFormat.XRECHNUNG_UBL:
            return FormatSpec(Syntax.UBL, XRECHNUNG_3, PEPPOL_BILLING_PROCESS, strict=True)
        case EInvoiceFormat.PEPPOL:
            return FormatSpec(Syntax.UBL, PEPPOL_BIS_3, PEPPOL_BILLING_PROCESS, strict=True, one_note=True)


class MissingBusinessTerm(ValueError):
    """A value the format needs is missing; the message names each business term and where to set it."""

    def __init__(self, fmt: EInvoiceFormat, missing: list[tuple[str, str]]) -> None:
        self.format = fmt
        self.terms = tuple(term for term, _ in missing)
        listed = "; ".join(f"{term} {what}" for term, what in missing)
        super().__init__(f"{fmt.value} cannot be made: missing {listed}")


def check_requirements(einvoice: EInvoice, fmt: EInvoiceFormat, spec: FormatSpec) -> None:
    missing: list[tuple[str, str]] = []
    seller, buyer = einvoice.seller, einvoice.buyer
    # BR-CO-26 identifies the seller by BT-29, BT-30 or BT-31 (the settings carry BT-30 and BT-31).
    # Intra-community supplies and exports need the VAT ID itself (BR-IC-02, BR-G-02); the other
    # categories take the tax number (BT-32) too (BR-S-02, BR-Z-02, BR-E-02, BR-AE-02), which the
    # settings require when there is no VAT ID.
    categories = {breakdown.vat.category for breakdown in einvoice.vat_breakdown}
    if not seller.vat_id and categories & {VatCategory.INTRA_COMMUNITY, VatCategory.EXPORT}:
        missing.append(
            ("BT-31", "Seller VAT identifier (settings/seller vatId): intra-community supplies and exports need it")
        )
    elif not seller.vat_id and not seller.legal_registration_id:
        missing.append(
            (
                "BT-31",
                "Seller VAT identifier, or BT-30 Seller legal registration identifier "
                "(settings/seller vatId or legalRegistrationId)",
            )
        )
    if spec.strict:
        if seller.electronic_address is None:
            missing.append(("BT-34", "Seller electronic address (settings/einvoice)"))
        if buyer.electronic_address is None:
            missing.append(("BT-49", "Buyer electronic address (the customer's email)"))
    if fmt is EInvoiceFormat.PEPPOL:
        # Peppol routes by participant ID: its EAS code list has no e-mail scheme (PEPPOL-EN16931-CL008).
        if seller.electronic_address is not None and seller.electronic_address.scheme == EMAIL_SCHEME:
            missing.append(("BT-34-1", "Seller electronic address as a Peppol participant ID, not e-mail (EM)"))
        if buyer.electronic_address is not None and buyer.electronic_address.scheme == EMAIL_SCHEME:
            missing.append(("BT-49-1", "Buyer electronic address as a Peppol participant ID, not e-mail (EM)"))
    if fmt in (EInvoiceFormat.XRECHNUNG_CII, EInvoiceFormat.XRECHNUNG_UBL) or spec.specification.endswith(
        "xrechnung_3.0"
    ):
        # BR-DE-15, BR-DE-2, BR-DE-5, BR-DE-6, BR-DE-7, BR-DE-24
        if not einvoice.buyer_reference:
            missing.append(("BT-10", "Buyer reference (settings/einvoice buyerReferenceSource)"))
        contact = seller.contact
        if contact is None or not contact.name:
            missing.append(("BT-41", "Seller contact point (settings/einvoice contactName)"))
        if contact is None or not contact.phone:
            missing.append(("BT-42", "Seller contact telephone number (settings/einvoice contactPhone)"))
        if contact is None or not contact.email:
            missing.append(("BT-43", "Seller contact email address (settings/einvoice contactEmail)"))
        if einvoice.payment.means_code == MEANS_CREDIT_CARD and einvoice.payment.card is None:
            missing.append(("BT-87", "Payment card primary account number, last digits (the order's payment)"))
    if missing:
        raise MissingBusinessTerm(fmt, missing)
