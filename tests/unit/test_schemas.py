import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import BaseModel

from schemas.export import ASYNCAPI_PATH, EXPORTED, TOPICS, path_of, render, render_asyncapi
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
    listed = {model for _, models, _ in TOPICS.values() for model in models}
    assert listed == set(EXPORTED)
