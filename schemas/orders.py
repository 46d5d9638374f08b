"""The upstream order event, as `contract/order-event.schema.json` describes it.

Money fields are Decimal. Parse raw bytes with `parse_order_event`, which reads JSON numbers straight
into Decimal: pydantic's own JSON parser goes through binary float for Decimal fields.
"""

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from invoicing.orders import OrderInput, OrderStatus, PaymentStatus

__all__ = ["Order", "OrderEvent", "OrderInput", "OrderStatus", "PaymentStatus", "parse_order_event"]

TENANT_PATTERN = r"^[a-z][a-z0-9]+$"
Tenant = Annotated[str, Field(pattern=TENANT_PATTERN, min_length=3, max_length=16)]
OrderId = Annotated[str, Field(min_length=1, max_length=64)]
Percent = Annotated[Decimal, Field(ge=0, le=100)]
NonNegative = Annotated[Decimal, Field(ge=0)]


class WireModel(BaseModel):
    # Upstream services may send more than the contract names; keep it, never fail on it.
    model_config = ConfigDict(extra="allow", frozen=True)


TaxCategory = Literal["S", "Z", "E", "AE", "K", "G", "O"]
TaxCategoryField = Field(
    default=None,
    description="EN 16931 VAT category (UNTDID 5305): S standard, Z zero rated, E exempt, AE reverse charge, "
    "K intra-Community supply, G export, O outside the scope of VAT; derived from the rate and the "
    "delivery country when absent.",
)
ExemptionReasonField = Field(
    default=None, max_length=1000, description="Why no VAT is charged (BT-120), e.g. the law's paragraph."
)
ExemptionReasonCodeField = Field(
    default=None, pattern=r"^VATEX-[A-Z0-9-]+$", description="VATEX code of the exemption (BT-121)."
)


class Customer(WireModel):
    name: str
    id: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    company: str | None = None
    email: str | None = None
    vatId: str | None = None
    peppolId: str | None = Field(
        default=None,
        pattern=r"^[0-9]{4}:[^\s]{1,200}$",
        description="The buyer's Peppol participant ID as <EAS scheme>:<value>, e.g. 0088:4035811991021 "
        "(BT-49; Peppol invoices need it).",
        examples=["9930:DE111111125"],
    )


class Address(WireModel):
    street: str
    zipCode: str
    city: str
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    contactName: str | None = None
    companyName: str | None = None
    streetNumber: str | None = None
    state: str | None = None


class Product(WireModel):
    name: str
    id: str | None = None
    sku: str | None = None


class OrderEntry(WireModel):
    id: str
    product: Product
    amount: Annotated[Decimal, Field(gt=0)]
    unitPrice: NonNegative
    taxRate: Percent
    discount: NonNegative = Decimal(0)
    taxCode: str | None = None
    taxCategory: TaxCategory | None = TaxCategoryField
    taxExemptionReason: str | None = ExemptionReasonField
    taxExemptionReasonCode: str | None = ExemptionReasonCodeField


class Shipping(WireModel):
    amount: NonNegative
    taxRate: Percent
    taxCode: str | None = None
    taxCategory: TaxCategory | None = TaxCategoryField
    taxExemptionReason: str | None = ExemptionReasonField
    taxExemptionReasonCode: str | None = ExemptionReasonCodeField


class Payment(WireModel):
    method: str
    status: PaymentStatus
    authorizedAmount: NonNegative | None = None
    paidAmount: NonNegative | None = None
    transactionId: str | None = None
    provider: str | None = None


class Order(WireModel):
    id: OrderId
    status: OrderStatus
    created: AwareDatetime
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    customer: Customer
    billingAddress: Address
    entries: Annotated[list[OrderEntry], Field(min_length=1)]
    subTotalPrice: NonNegative
    totalPrice: NonNegative
    extendedOrderStatus: str | None = None
    deliveryDate: date | datetime | None = None
    siteCode: str | None = None
    shippingAddress: Address | None = None
    shipping: Shipping | None = None
    payments: list[Payment] = []
    buyerReference: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="The buyer's reference for the invoice (BT-10), e.g. a Leitweg-ID."
    )


class OrderEvent(WireModel):
    """Record key on the topic: '<tenant>:<order.id>'. The later snapshot of one order replaces the earlier."""

    eventType: Literal["order.created", "order.updated", "order.completed"]
    tenant: Tenant
    occurredAt: AwareDatetime
    order: Order


# The wire model is what the domain takes (invoicing/orders.py): mypy checks it here, once.
_ORDER_IS_DOMAIN_INPUT: type[OrderInput] = Order


def parse_order_event(raw: bytes | str) -> OrderEvent:
    """Parse one event, JSON numbers read as Decimal. Raises ValueError (pydantic's ValidationError is one)."""
    return OrderEvent.model_validate(json.loads(raw, parse_float=Decimal))
