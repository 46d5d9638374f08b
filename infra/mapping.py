"""The one place where wire models (`schemas/`) become the domain's types (`invoicing/`), so that
neither of the two imports the other's logic. Orders need no mapping: the wire model satisfies the
domain's `OrderInput` as it is (checked in schemas/orders.py)."""

from datetime import timedelta

from invoicing.document import (
    BankDetails,
    BuyerReferenceSource,
    EInvoiceSettings,
    ElectronicAddress,
    FacturXProfile,
    PostalAddress,
    SellerDetails,
)
from invoicing.numbering import SequenceSchema
from invoicing.orders import OrderStatus
from invoicing.selection import OrderSelection
from schemas import settings as wire
from schemas.settings import InvoiceSettings, SellerSettings, SequenceSettings


def order_selection(settings: InvoiceSettings, site_code: str | None = None) -> OrderSelection:
    return OrderSelection(
        statuses=tuple(OrderStatus(status) for status in settings.status.split(",")),
        extended_statuses=tuple(settings.extendedOrderStatus.split(",")) if settings.extendedOrderStatus else (),
        threshold=timedelta(hours=float(settings.threshold)),
        site_code=site_code,
    )


def sequence_schema(settings: SequenceSettings) -> SequenceSchema:
    return SequenceSchema(
        pre_text=settings.preText,
        number_of_digits=settings.numberOfDigits,
        start_value=settings.startValue,
        max_value=settings.maxValue,
    )


def seller_details(settings: SellerSettings) -> SellerDetails:
    address = settings.address
    bank = settings.bank
    return SellerDetails(
        legal_name=settings.legalName,
        address=PostalAddress(address.street, address.zipCode, address.city, address.country, (), address.state),
        vat_id=settings.vatId,
        tax_number=settings.taxNumber,
        legal_registration_id=settings.legalRegistrationId,
        legal_registration_scheme=settings.legalRegistrationScheme,
        email=settings.email,
        phone=settings.phone,
        bank=BankDetails(bank.accountHolder, bank.iban, bank.bic, bank.bankName) if bank else None,
        payment_terms_days=settings.paymentTermsDays,
        footer=settings.footer,
        language=settings.language,
        locale=settings.locale,
    )


def einvoice_settings(settings: wire.EInvoiceSettings) -> EInvoiceSettings:
    address = settings.sellerElectronicAddress
    return EInvoiceSettings(
        profile=FacturXProfile(settings.profile),
        seller_electronic_address=ElectronicAddress(address.value, address.scheme) if address else None,
        contact_name=settings.contactName,
        contact_phone=settings.contactPhone,
        contact_email=settings.contactEmail,
        buyer_reference_source=BuyerReferenceSource(settings.buyerReferenceSource),
        buyer_reference=settings.buyerReference,
    )
