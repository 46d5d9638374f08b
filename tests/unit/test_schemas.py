import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from schemas.events import JOB_RESULT, OrderInvoiceRequested
from schemas.export import ASYNCAPI_PATH, EXPORTED, asyncapi, path_of, render, render_asyncapi
from schemas.topics import TOPICS
from tests.factories import order_event

CONTRACT = Path(__file__).parents[2] / "schemas" / "contract"


@pytest.mark.parametrize("model", EXPORTED, ids=lambda m: m.__name__)
def test_exported_schema_matches_model(model: type[BaseModel]) -> None:
    assert path_of(model).read_text() == render(model), "run: python -m schemas.export"


def test_factory_orders_follow_the_contract() -> None:
    contract = json.loads((CONTRACT / "order-event.schema.json").read_text())
    jsonschema.validate(order_event("shop", "o-1"), contract)


def test_asyncapi_document_is_current_and_names_every_event() -> None:
    assert ASYNCAPI_PATH.read_text() == render_asyncapi(), "run: python -m schemas.export"
    listed = {model for spec in TOPICS for model in spec.records}
    assert listed == set(EXPORTED)


def test_the_asyncapi_channels_are_the_declared_topics() -> None:
    """One topic contract (schemas/topics.py): the document lists each declared topic, with its key."""
    channels = asyncapi()["channels"]
    assert list(channels) == [spec.default for spec in TOPICS]
    for spec in TOPICS:
        assert channels[spec.default]["description"].startswith(f"Key: {spec.key_description}.")
        assert set(channels[spec.default]["messages"]) == {model.__name__ for model in spec.records}


@pytest.mark.parametrize(
    ("text", "refusal"),
    [("j\u0000", "jobId: holds NUL or a lone surrogate"), ("\ud800", "Invalid JSON")],
    ids=["NUL", "lone surrogate"],
)
def test_an_internal_event_with_text_the_store_cannot_keep_is_refused_where_it_is_read(text: str, refusal: str) -> None:
    record = {"eventType": "order.failed", "tenant": "shop", "jobId": text, "orderId": "o-1", "reason": "x"}
    with pytest.raises(ValidationError, match=refusal):
        JOB_RESULT.validate_json(json.dumps(record))
    with pytest.raises(ValidationError, match="orderId: holds NUL"):
        OrderInvoiceRequested.model_validate({"tenant": "shop", "jobId": "j", "orderId": "\u0000", "position": 0})
