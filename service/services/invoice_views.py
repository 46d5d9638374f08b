"""The invoice resource's parts that come from the invoice document alone (no query): seller, buyer, the
VAT breakdown and the lines as the invoice shows them. What the PDF and the XML say, read back."""

from invoicing.document import Buyer, InvoiceDocument, PostalAddress, SellerDetails
from invoicing.einvoice import document_vat_breakdown, order_choice, vat_treatments
from invoicing.einvoice.notes import legal_registration_scheme
from schemas.api import InvoiceLineView
from schemas.invoice_views import BuyerView, PostalAddressView, SellerView, VatBreakdownView


def address_view(address: PostalAddress) -> PostalAddressView:
    return PostalAddressView(
        recipient=list(address.recipient),
        street=address.street,
        zipCode=address.zip_code,
        city=address.city,
        state=address.state,
        country=address.country,
    )


def seller_view(seller: SellerDetails) -> SellerView:
    return SellerView(
        name=seller.legal_name,
        address=address_view(seller.address),
        vatId=seller.vat_id,
        taxNumber=seller.tax_number,
        legalRegistrationId=seller.legal_registration_id,
        legalRegistrationScheme=legal_registration_scheme(seller),
        email=seller.email,
        phone=seller.phone,
    )


def buyer_view(buyer: Buyer) -> BuyerView:
    return BuyerView(
        name=buyer.name,
        company=buyer.company,
        vatId=buyer.vat_id,
        email=buyer.email,
        billingAddress=address_view(buyer.billing_address),
        shippingAddress=address_view(buyer.shipping_address) if buyer.shipping_address else None,
    )


def vat_breakdown_view(document: InvoiceDocument) -> list[VatBreakdownView]:
    return [
        VatBreakdownView(
            category=row.vat.category.value,
            rate=row.vat.rate,
            base=row.base,
            tax=row.tax,
            exemptionReason=row.vat.exemption_reason,
            exemptionReasonCode=row.vat.exemption_reason_code,
        )
        for row in document_vat_breakdown(document)
    ]


def line_views(document: InvoiceDocument) -> list[InvoiceLineView]:
    """The lines with the unit prices the invoice shows: a gross order's gross ones beside the net."""
    treatment = vat_treatments(document)
    return [
        InvoiceLineView(
            position=line.position,
            description=line.description,
            sku=line.sku,
            quantity=line.quantity,
            unitPrice=line.unit_price,
            discount=line.discount,
            net=line.net,
            taxRate=line.tax_rate,
            taxCategory=treatment(line.tax_rate, order_choice(line.tax)).category.value,
            grossUnitPrice=line.gross_unit_price,
            gross=line.gross,
        )
        for line in document.totals.lines
    ]
