"""What the order contract refuses besides the schema: too many lines, deep nesting, text the store cannot keep."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.orders import parse_order_event
from tests.factories import encoded, order_event


def event_with(**order_fields: Any) -> dict[str, Any]:
    return order_event("shop", "o-1", **order_fields)


def lines(count: int) -> list[dict[str, Any]]:
    return [{"id": str(i), "product": {"name": "p"}, "amount": 1, "unitPrice": 1, "taxRate": 19} for i in range(count)]


def test_an_order_of_the_maximum_lines_is_taken() -> None:
    assert len(parse_order_event(encoded(event_with(entries=lines(5_000)))).order.entries) == 5_000


def test_an_order_over_the_maximum_lines_is_refused_naming_the_limit() -> None:
    with pytest.raises(ValidationError, match="5001 lines, at most 5000 per order"):
        parse_order_event(encoded(event_with(entries=lines(5_001))))
    with pytest.raises(ValidationError, match="3 lines, at most 2 per order"):
        parse_order_event(encoded(event_with(entries=lines(3))), max_order_lines=2)


@pytest.mark.parametrize("raw", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000])
def test_json_nested_past_the_parser_is_a_value_error_not_a_recursion_error(raw: bytes) -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_order_event(raw)


def test_nesting_the_store_would_refuse_is_refused() -> None:
    event = event_with(extra=json.loads("[" * 40 + "]" * 40))
    with pytest.raises(ValueError, match=r"order\.extra(\.0)+: nested deeper than 32 levels"):
        parse_order_event(encoded(event))


@pytest.mark.parametrize(
    ("field", "text"),
    [("name", "Erika\u0000"), ("name", "\ud800"), ("city", "M\udfffnchen")],
)
def test_nul_and_lone_surrogates_are_refused_where_they_are(field: str, text: str) -> None:
    event = event_with()
    target = event["order"]["customer"] if field == "name" else event["order"]["billingAddress"]
    target[field] = text
    with pytest.raises(ValueError, match="holds NUL or a lone surrogate") as refused:
        parse_order_event(json.dumps(event).encode())
    assert field in str(refused.value)
    str(refused.value).encode()  # the reason itself is valid UTF-8: it goes into a dead letter


def test_other_unicode_is_kept() -> None:
    name = "\u202eErika \U0001f600 Mu\u0308stermann"  # RTL override, a 4-byte emoji, a combining mark
    event = order_event("shop", "o-1", customer=name)
    assert parse_order_event(json.dumps(event).encode()).order.customer.name == name
