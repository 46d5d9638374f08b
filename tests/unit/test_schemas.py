import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import BaseModel

from schemas.export import EXPORTED, path_of, render
from tests.factories import order_event

CONTRACT = Path(__file__).parents[2] / "schemas" / "contract"


@pytest.mark.parametrize("model", EXPORTED, ids=lambda m: m.__name__)
def test_exported_schema_matches_model(model: type[BaseModel]) -> None:
    assert path_of(model).read_text() == render(model), "run: python -m schemas.export"


def test_factory_orders_follow_the_contract() -> None:
    contract = json.loads((CONTRACT / "order-event.schema.json").read_text())
    jsonschema.validate(order_event("shop", "o-1"), contract)
