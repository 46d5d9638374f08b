"""The upstream order event, as `contract/order-event.schema.json` describes it.

Money fields are Decimal. Parse raw bytes with `parse_order_event`, which reads JSON numbers straight
into Decimal: pydantic's own JSON parser goes through binary float for Decimal fields.
"""

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from invoicing.orders import OrderInput, OrderStatus, PaymentStatus

__all__ = ["Order", "OrderEvent", "OrderInput", "OrderStatus", "PaymentStatus", "parse_order_event"]

TENANT_PATTERN = r"^[a-z][a-z0-9]+$"
Tenant = Annotated[str, Field(pattern=TENANT_PATTERN, min_length=3, max_length=16)]
# No control characters (NUL among them): no order ID holds one, and the order store cannot keep NUL.
OrderId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]
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
    entries: Annotated[list[OrderEntry], Field(min_length=1)]  # at most `max_order_lines`: see parse_order_event
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
    # An extension of the contract (README "Extensions to the contract"): the buyer's language.
    language: Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$", max_length=35)] | None = Field(
        default=None,
        description="The language of the invoice and its email (BCP 47, e.g. fr or pt-BR); without a catalog "
        "of it, the nearest one (pt-BR -> pt), else the tenant's default language.",
        examples=["fr"],
    )
    pricesIncludeTax: bool = Field(
        default=False,
        description="True when unitPrice, discount, shipping.amount and subTotalPrice include VAT (gross "
        "prices, as B2C shops quote them; Emporix's `inclusive`). The tax is then the VAT within the gross "
        "sum of each VAT category and rate (EN 16931), and the invoice states the nets derived from it.",
    )

    @field_validator("entries")
    @classmethod
    def _not_too_many_lines(cls, entries: list[OrderEntry], info: ValidationInfo) -> list[OrderEntry]:
        limit = (info.context or {}).get("max_order_lines", DEFAULT_MAX_ORDER_LINES)
        if len(entries) > limit:
            raise ValueError(f"{len(entries)} lines, at most {limit} per order")
        return entries


class OrderEvent(WireModel):
    """Record key on the topic: '<tenant>:<order.id>'. The later snapshot of one order replaces the earlier."""

    eventType: Literal["order.created", "order.updated", "order.completed"]
    tenant: Tenant
    occurredAt: AwareDatetime
    order: Order


# The wire model is what the domain takes (invoicing/orders.py): mypy checks it here, once.
_ORDER_IS_DOMAIN_INPUT: type[OrderInput] = Order

# An order is a few levels deep; anything much deeper is hostile, and MongoDB refuses documents nested
# past 100 levels anyway.
MAX_NESTING = 32
DEFAULT_MAX_ORDER_LINES = 5_000


def printable(text: str) -> str:
    """`text` as it can be shown anywhere: non-ASCII, control characters and lone surrogates escaped."""
    return text.encode("ascii", "backslashreplace").decode()


def unstorable_text(data: Any) -> str | None:
    """Where the parsed JSON nests too deeply or holds text the order store cannot keep (NUL, or a lone
    surrogate from a \\uD800-style escape); None when it has neither. Iterative: the depth is the input's."""
    pending: list[tuple[Any, str, int]] = [(data, "", 0)]
    while pending:
        node, path, depth = pending.pop()
        if depth > MAX_NESTING:
            return f"{path or 'event'}: nested deeper than {MAX_NESTING} levels"
        if isinstance(node, dict):
            for key, value in node.items():
                name = f"{path}.{printable(key)}".lstrip(".")
                pending.extend([(key, f"{name} (the name)", depth + 1), (value, name, depth + 1)])
        elif isinstance(node, list):
            pending.extend((item, f"{path}.{index}".lstrip("."), depth + 1) for index, item in enumerate(node))
        elif isinstance(node, str) and ("\x00" in node or any(0xD800 <= ord(c) <= 0xDFFF for c in node)):
            return f"{path or 'event'}: holds NUL or a lone surrogate, which the store cannot keep"
    return None


def parse_order_event(raw: bytes | str, max_order_lines: int = DEFAULT_MAX_ORDER_LINES) -> OrderEvent:
    """Parse one event, JSON numbers read as Decimal. Raises ValueError (pydantic's ValidationError is one)."""
    try:
        data = json.loads(raw, parse_float=Decimal)
    except RecursionError:
        raise ValueError(f"JSON nested too deeply (more than {MAX_NESTING} levels)") from None
    problem = unstorable_text(data)
    if problem is not None:
        raise ValueError(problem)
    return OrderEvent.model_validate(data, context={"max_order_lines": max_order_lines})
