"""The invoice document: everything the PDF shows, decided once and stored with the invoice.

An invoice already made never changes, so the renderer works from this frozen snapshot, never from
the live order or the tenant's current settings.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from invoicing.orders import AddressInput, OrderInput, PaymentStatus
from invoicing.payments import CapturedPayment
from invoicing.recalculation import Totals


@dataclass(frozen=True)
class PostalAddress:
    street: str
    zip_code: str
    city: str
    country: str  # ISO 3166 alpha-2; the renderer names it in the document's language
    recipient: tuple[str, ...] = ()  # name and company lines above the street
    state: str | None = None


@dataclass(frozen=True)
class BankDetails:
    account_holder: str
    iban: str
    bic: str | None = None
    bank_name: str | None = None


@dataclass(frozen=True)
class SellerDetails:
    legal_name: str
    address: PostalAddress
    vat_id: str | None = None
    tax_number: str | None = None
    legal_registration_id: str | None = None  # e.g. a commercial register entry
    legal_registration_scheme: str | None = None  # its ISO 6523 ICD (BT-30-1), e.g. 0002 for a SIREN
    email: str | None = None
    phone: str | None = None
    bank: BankDetails | None = None
    payment_terms_days: int = 14
    footer: str | None = None
    language: str = "en"  # the catalog of its words (invoicing.language), stored with the document
    locale: str = "en_GB"  # numbers, money and dates (Babel locale)
    logo: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Buyer:
    name: str
    billing_address: PostalAddress
    company: str | None = None
    vat_id: str | None = None
    email: str | None = None
    shipping_address: PostalAddress | None = None  # only when it differs from the billing address
    electronic_address: "ElectronicAddress | None" = None  # BT-49: the order's customer.peppolId


@dataclass(frozen=True)
class PaymentInfo:
    paid: bool
    method: str | None = None
    paid_on: date | None = None
    due_on: date | None = None


# --- e-invoice settings (settings/einvoice), frozen with each invoice like the seller -------------


class FacturXProfile(StrEnum):
    """The Factur-X/ZUGFeRD profile of the embedded CII; EN 16931 (ZUGFeRD "COMFORT") by default, or
    XRECHNUNG (the XRechnung CII in a Factur-X PDF, ZUGFeRD 2.3's profile of that name)."""

    EN16931 = "EN16931"
    XRECHNUNG = "XRECHNUNG"


class BuyerReferenceSource(StrEnum):
    """Where BT-10 (buyer reference; the Leitweg-ID in German public procurement) comes from."""

    ORDER_ID = "orderId"  # the shop's order number
    ORDER_FIELD = "orderBuyerReference"  # the order's own buyerReference (InvoiceDocument.buyer_reference)
    FIXED = "fixed"  # EInvoiceSettings.buyer_reference, the same for every invoice of the tenant
    NONE = "none"  # no buyer reference (XRechnung then cannot be made)


EMAIL_SCHEME = "EM"


@dataclass(frozen=True)
class ElectronicAddress:
    """BT-34 / BT-49 with its scheme BT-34-1 / BT-49-1 (a CEF EAS code: EM e-mail, 0088 GLN, 9930 DE VAT ...)."""

    value: str
    scheme: str = EMAIL_SCHEME


@dataclass(frozen=True)
class EInvoiceSettings:
    """The tenant's e-invoice settings (`settings/einvoice`). Contact values fall back to the seller's
    email and phone when not set."""

    profile: FacturXProfile = FacturXProfile.EN16931
    seller_electronic_address: ElectronicAddress | None = None  # BT-34
    contact_name: str | None = None  # BT-41
    contact_phone: str | None = None  # BT-42
    contact_email: str | None = None  # BT-43
    buyer_reference_source: BuyerReferenceSource = BuyerReferenceSource.ORDER_ID  # BT-10
    buyer_reference: str | None = None  # BT-10 when the source is FIXED


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit-note"  # corrects an issued invoice (German: Rechnungskorrektur); never replaces it


@dataclass(frozen=True)
class PrecedingInvoice:
    """The invoice a credit note corrects, as the credit note must name it (number and date)."""

    number: str
    issued_on: date


@dataclass(frozen=True)
class InvoiceDocument:
    tenant: str
    invoice_number: str
    invoice_date: date
    order_id: str
    order_date: date
    delivery_date: date | None
    seller: SellerDetails
    buyer: Buyer
    totals: Totals
    payment: PaymentInfo
    # Absent from documents stored before e-invoices: those get the defaults (EN 16931, no extras).
    einvoice: EInvoiceSettings = EInvoiceSettings()
    buyer_reference: str | None = None  # the order's buyerReference (e.g. a Leitweg-ID)
    # A credit note is the same document with its own number and the credited lines (amounts positive).
    kind: DocumentKind = DocumentKind.INVOICE
    preceding_invoice: PrecedingInvoice | None = None  # set exactly for a credit note


def postal_address(address: AddressInput) -> PostalAddress:
    street = f"{address.street} {address.streetNumber}" if address.streetNumber else address.street
    recipient = tuple(name for name in (address.contactName, address.companyName) if name)
    return PostalAddress(street, address.zipCode, address.city, address.country, recipient, address.state)


def payment_info(
    order: OrderInput, invoice_date: date, payment_terms_days: int, captured: CapturedPayment | None = None
) -> PaymentInfo:
    """Paid when the invoicing captured the payment (`captured`) or the order's payment was captured
    before; otherwise due `payment_terms_days` after the invoice date."""
    if captured is not None:
        return PaymentInfo(paid=True, method=captured.method, paid_on=captured.captured_at.astimezone(UTC).date())
    for payment in order.payments:
        if payment.status is PaymentStatus.CAPTURED:
            return PaymentInfo(paid=True, method=payment.method, paid_on=invoice_date)
    method = order.payments[0].method if order.payments else None
    return PaymentInfo(paid=False, method=method, due_on=invoice_date + timedelta(days=payment_terms_days))


def peppol_address(peppol_id: str | None) -> "ElectronicAddress | None":
    """A Peppol participant ID "<EAS scheme>:<value>" (the order's customer.peppolId) as BT-49."""
    if not peppol_id:
        return None
    scheme, _, value = peppol_id.partition(":")
    return ElectronicAddress(value, scheme)


def _as_date(value: date | datetime | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def build_invoice_document(
    *,
    order: OrderInput,
    tenant: str,
    totals: Totals,
    invoice_number: str,
    issued_at: datetime,
    seller: SellerDetails,
    einvoice: EInvoiceSettings | None = None,
    captured: CapturedPayment | None = None,
) -> InvoiceDocument:
    billing = postal_address(order.billingAddress)
    shipping = postal_address(order.shippingAddress) if order.shippingAddress else None
    invoice_date = issued_at.date()
    return InvoiceDocument(
        tenant=tenant,
        invoice_number=invoice_number,
        invoice_date=invoice_date,
        order_id=order.id,
        order_date=order.created.date(),
        delivery_date=_as_date(order.deliveryDate),
        seller=seller,
        buyer=Buyer(
            name=order.customer.name,
            billing_address=billing,
            company=order.customer.company,
            vat_id=order.customer.vatId,
            email=order.customer.email,
            shipping_address=shipping if shipping != billing else None,
            electronic_address=peppol_address(order.customer.peppolId),
        ),
        totals=totals,
        payment=payment_info(order, invoice_date, seller.payment_terms_days, captured),
        einvoice=einvoice or EInvoiceSettings(),
        buyer_reference=order.buyerReference,
    )


# Until a tenant has seller settings of its own (settings API), invoices carry this placeholder seller.
DEFAULT_SELLER = SellerDetails(
    legal_name="Invoice Service Demo GmbH",
    address=PostalAddress(street="Musterstraße 1", zip_code="10115", city="Berlin", country="DE"),
    vat_id="DE000000000",
    email="billing@example.com",
)
