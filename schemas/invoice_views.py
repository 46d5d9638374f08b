"""Extension: the parts of the invoice resource an ERP books an invoice by without its PDF (issue 23,
point 6): seller, buyer, the VAT breakdown. All are read from the document the invoice was made from,
so they say what the PDF and the e-invoice XML say; credit notes in the lists leave them out."""

from decimal import Decimal

from pydantic import BaseModel, Field, JsonValue


class PostalAddressView(BaseModel):
    recipient: list[str] = Field(
        default_factory=list, description="The name and company lines above the street, as the order gave them."
    )
    street: str = Field(description="Street and number.")
    zipCode: str
    city: str
    state: str | None = None
    country: str = Field(description="ISO 3166-1 alpha-2.", examples=["DE"])


class SellerView(BaseModel):
    """The seller as the invoice names it (the seller settings it was made with: BG-4)."""

    name: str = Field(description="The legal name (BT-27).")
    address: PostalAddressView
    vatId: str | None = Field(default=None, description="BT-31.")
    taxNumber: str | None = Field(default=None, description="BT-32.")
    legalRegistrationId: str | None = Field(default=None, description="BT-30, e.g. a SIREN or a register entry.")
    legalRegistrationScheme: str | None = Field(
        default=None, description="BT-30-1, its ISO 6523 ICD (0002: SIREN), as the e-invoice states it."
    )
    email: str | None = None
    phone: str | None = None


class BuyerView(BaseModel):
    """The buyer as the invoice names it (the order's customer and addresses: BG-7)."""

    name: str
    company: str | None = None
    vatId: str | None = Field(default=None, description="BT-48.")
    email: str | None = None
    billingAddress: PostalAddressView
    shippingAddress: PostalAddressView | None = Field(
        default=None, description="Only when the goods went elsewhere than the billing address."
    )


class VatBreakdownView(BaseModel):
    """One row of the VAT breakdown (BG-23): the PDF's figures for the VAT category and rate."""

    category: str = Field(
        description="The VAT category (UNTDID 5305, BT-118): S, Z, E, AE, K, G or O; the order's own, else "
        "derived from the rate and where the goods went, as in the e-invoice XML.",
        examples=["S"],
    )
    rate: Decimal = Field(description="The VAT rate in percent (BT-119).")
    base: Decimal = Field(description="The net amount taxed at this category and rate (BT-116).")
    tax: Decimal = Field(description="The VAT of the row (BT-117).")
    exemptionReason: str | None = Field(default=None, description="BT-120, for categories without VAT.")
    exemptionReasonCode: str | None = Field(default=None, description="BT-121, a VATEX code.")


_ADDRESS: dict[str, JsonValue] = {"street": "Hauptstraße 1", "zipCode": "10115", "city": "Berlin", "country": "DE"}

# The invoice resource's example: a B2B order at 19 and 7 %.
RESOURCE_EXAMPLE: dict[str, JsonValue] = {
    "siteCode": "main",
    "dueDate": "2026-12-13",
    "pricesIncludeTax": False,
    "seller": {
        "name": "Kaffeerösterei Müller GmbH",
        "address": _ADDRESS,
        "vatId": "DE123456789",
        "legalRegistrationId": "HRB 12345",
        "email": "billing@kaffee.example",
    },
    "buyer": {
        "name": "Erika Mustermann",
        "company": "Muster AG",
        "vatId": "DE987654321",
        "email": "erika@muster.example",
        "billingAddress": {
            "recipient": ["Erika Mustermann", "Muster AG"],
            "street": "Marktplatz 5",
            "zipCode": "80331",
            "city": "München",
            "country": "DE",
        },
    },
    "vatBreakdown": [
        {"category": "S", "rate": "7", "base": "49.80", "tax": "3.49"},
        {"category": "S", "rate": "19", "base": "88.90", "tax": "16.89"},
    ],
}
