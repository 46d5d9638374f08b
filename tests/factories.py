"""Order events for tests, with figures worked out by hand (not by the code under test).

The standard order: 2 x 19.99 at 19 % (net 39.98), 1 x 5.00 at 7 % (net 5.00), shipping 4.90 at 19 %.
Tax 19 %: (39.98 + 4.90) x 0.19 = 8.5272 -> 8.53. Tax 7 %: 5.00 x 0.07 = 0.35.
Subtotal 44.98; total 44.98 + 4.90 + 8.53 + 0.35 = 58.76.
"""

import json
from datetime import UTC, datetime
from typing import Any

STANDARD_SUBTOTAL = "44.98"
STANDARD_TOTAL = "58.76"


def order_event(
    tenant: str,
    order_id: str,
    *,
    customer: str = "Erika Mustermann",
    sub_total: str = STANDARD_SUBTOTAL,
    total: str = STANDARD_TOTAL,
    status: str = "COMPLETED",
    occurred_at: datetime | None = None,
    **order_fields: Any,
) -> dict[str, Any]:
    order: dict[str, Any] = {
        "id": order_id,
        "status": status,
        "created": "2026-11-20T10:00:00Z",
        "deliveryDate": "2026-11-22",
        "currency": "EUR",
        "customer": {"name": customer, "email": "erika@example.com"},
        "billingAddress": {
            "street": "Hauptstraße",
            "streetNumber": "5",
            "zipCode": "80331",
            "city": "München",
            "country": "DE",
        },
        "entries": [
            {
                "id": "1",
                "product": {"name": "Espresso cup", "sku": "CUP-1"},
                "amount": 2,
                "unitPrice": 19.99,
                "taxRate": 19,
            },
            {
                "id": "2",
                "product": {"name": "Coffee beans 250 g", "sku": "BEAN-250"},
                "amount": 1,
                "unitPrice": 5.00,
                "taxRate": 7,
            },
        ],
        "shipping": {"amount": 4.90, "taxRate": 19},
        "payments": [{"method": "invoice", "status": "PENDING"}],
        "subTotalPrice": float(sub_total),
        "totalPrice": float(total),
        **order_fields,
    }
    return {
        "eventType": "order.created",
        "tenant": tenant,
        "occurredAt": (occurred_at or datetime.now(UTC)).isoformat(),
        "order": order,
    }


def encoded(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()
