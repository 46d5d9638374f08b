"""`invoice-service orders publish`: reading a file of order events and checking each one."""

import json

import pytest

from cli.orders import check, raw_events
from schemas.orders import OrderEvent
from tests.factories import order_event


def test_ndjson_events_keep_their_exact_text() -> None:
    lines = ['{"a": 1.10}', "", '  {"b": 2}  ']
    events = [(e.where, e.text) for e in raw_events("\n".join(lines))]
    assert events == [("line 1", '{"a": 1.10}'), ("line 3", '{"b": 2}')]


def test_array_items_keep_their_exact_text() -> None:
    text = '[\n {"price": 19.990},\n {"nested": [1, {"x": "]"}]}\n]\n'
    assert [(e.where, e.text) for e in raw_events(text)] == [
        ("item 1", '{"price": 19.990}'),
        ("item 2", '{"nested": [1, {"x": "]"}]}'),
    ]


@pytest.mark.parametrize(("text", "message"), [('[{"a": 1}', "not closed"), ('[{"a": }]', "item 1 is not valid JSON")])
def test_broken_arrays_are_reported(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        list(raw_events(text))


def test_each_event_is_checked_against_the_contract() -> None:
    good = order_event("shop", "o-1")
    bad = order_event("shop", "o-2")
    del bad["order"]["entries"]
    results = [check(event) for event in raw_events(json.dumps([good, bad, {"eventType": "order.created"}]))]
    assert isinstance(results[0], OrderEvent)
    assert results[1] == "order.entries: Field required"
    assert isinstance(results[2], str) and "tenant: Field required" in results[2]
