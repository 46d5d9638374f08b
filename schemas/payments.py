"""Extension: payments on an invoice (POST/GET /invoice/{tenant}/invoices/{invoiceNumber}/payments).

Amounts are decimal strings in the invoice's currency, with no more decimals than its minor unit.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from invoicing.settlement import InvoicePaymentStatus, PaymentSource

__all__ = ["InvoicePaymentStatus", "PaymentSource"]

Day = date  # the fields named `date` would shadow the type in the class bodies

_PAYMENT_EXAMPLE: dict[str, JsonValue] = {
    "paymentId": "9b2f4c1e7a6d4e0f8c3b5a2d1e0f9c8b",
    "amount": "100.00",
    "currency": "EUR",
    "date": "2026-12-10",
    "method": "bank_transfer",
    "reference": "RF18 5390 0754 7034",
    "recordedAt": "2026-12-10T09:30:00.123000Z",
    "source": "api",
}
_SETTLEMENT_EXAMPLE: dict[str, JsonValue] = {
    "invoiceNumber": "INV-000042",
    "currency": "EUR",
    "paymentStatus": "partially_paid",
    "amountPaid": "100.00",
    "amountDue": "46.58",
    "dueOn": "2026-12-13",
}


class InvoicePaymentRequest(BaseModel):
    """A payment received for an invoice (partial or full)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "amount": "100.00",
                    "currency": "EUR",
                    "date": "2026-12-10",
                    "method": "bank_transfer",
                    "reference": "RF18 5390 0754 7034",
                }
            ]
        },
    )

    amount: Decimal = Field(
        description="Positive, as a decimal string, at most the currency's decimals (EUR 2, JPY 0, KWD 3) and at "
        "most the invoice's amount due (409 beyond)."
    )
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="Must be the invoice's currency.")]
    date: Day = Field(description="When the money came (the payer's value date).")
    method: Annotated[str, Field(min_length=1, max_length=64, examples=["bank_transfer", "cash", "card"])]
    reference: Annotated[str | None, Field(max_length=140, description="The payer's reference, if any.")] = None


class InvoicePaymentView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_PAYMENT_EXAMPLE]})

    paymentId: str
    amount: Decimal
    currency: str
    date: Day
    method: str
    reference: str | None = None
    recordedAt: datetime
    source: PaymentSource = Field(description="api: POST .../payments; order_event: the order's payments said paid.")


class InvoiceSettlementView(BaseModel):
    """What is paid and due on the invoice; `paymentStatus` overdue is derived at read time."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SETTLEMENT_EXAMPLE]})

    invoiceNumber: str
    currency: str
    paymentStatus: InvoicePaymentStatus
    amountPaid: Decimal
    amountDue: Decimal = Field(description="Gross total less credit notes less payments, never below 0.")
    dueOn: Day | None = None


class InvoicePaymentRecorded(BaseModel):
    """The answer to POST .../payments: the payment (for a retry under the same Idempotency-Key: the one
    recorded first) and the invoice's settlement now."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"payment": _PAYMENT_EXAMPLE, "invoice": _SETTLEMENT_EXAMPLE}]}
    )

    payment: InvoicePaymentView
    invoice: InvoiceSettlementView


class InvoicePaymentList(BaseModel):
    """GET .../payments: every payment of the invoice, in the order recorded, and its settlement."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_PAYMENT_EXAMPLE], "invoice": _SETTLEMENT_EXAMPLE}]}
    )

    items: list[InvoicePaymentView]
    invoice: InvoiceSettlementView
