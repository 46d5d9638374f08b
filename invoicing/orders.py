"""What the domain needs of an order: its own input types, declared here so `invoicing/` imports
nothing of the rest of the project.

The types are structural (Protocols of read-only properties), named as the order contract names its
fields: the wire model `schemas.orders.Order` satisfies them as it is, and mypy checks that it does
(`schemas/orders.py` asserts it), so there is no copy to keep in step and no mapping step per order.
The enums are the domain's; `schemas/orders.py` re-exports them for the wire model.
"""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class OrderStatus(StrEnum):
    CREATED = "CREATED"
    CONFIRMED = "CONFIRMED"
    DECLINED = "DECLINED"
    SHIPPED = "SHIPPED"
    COMPLETED = "COMPLETED"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    AUTHORIZED = "AUTHORIZED"
    CAPTURED = "CAPTURED"
    FAILED = "FAILED"


class CustomerInput(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def company(self) -> str | None: ...
    @property
    def vatId(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...


class AddressInput(Protocol):
    @property
    def street(self) -> str: ...
    @property
    def streetNumber(self) -> str | None: ...
    @property
    def zipCode(self) -> str: ...
    @property
    def city(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def contactName(self) -> str | None: ...
    @property
    def companyName(self) -> str | None: ...
    @property
    def state(self) -> str | None: ...


class ProductInput(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def sku(self) -> str | None: ...


class OrderLineInput(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def product(self) -> ProductInput: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def unitPrice(self) -> Decimal: ...
    @property
    def discount(self) -> Decimal: ...
    @property
    def taxRate(self) -> Decimal: ...


class ShippingInput(Protocol):
    @property
    def amount(self) -> Decimal: ...
    @property
    def taxRate(self) -> Decimal: ...


class PaymentInput(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def status(self) -> PaymentStatus: ...
    @property
    def authorizedAmount(self) -> Decimal | None: ...
    @property
    def transactionId(self) -> str | None: ...


class OrderInput(Protocol):
    """An order to invoice, as the domain reads it."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> OrderStatus: ...
    @property
    def created(self) -> datetime: ...
    @property
    def currency(self) -> str: ...
    @property
    def customer(self) -> CustomerInput: ...
    @property
    def billingAddress(self) -> AddressInput: ...
    @property
    def shippingAddress(self) -> AddressInput | None: ...
    @property
    def entries(self) -> Sequence[OrderLineInput]: ...
    @property
    def shipping(self) -> ShippingInput | None: ...
    @property
    def payments(self) -> Sequence[PaymentInput]: ...
    @property
    def subTotalPrice(self) -> Decimal: ...
    @property
    def totalPrice(self) -> Decimal: ...
    @property
    def deliveryDate(self) -> date | datetime | None: ...
