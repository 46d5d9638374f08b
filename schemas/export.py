"""Write the JSON Schema of every event model into schemas/json/ (`python -m schemas.export`).

A unit test fails when a committed schema no longer matches its model, so the exported files are
always what the code sends and accepts.
"""

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.events import ALL_EVENTS
from schemas.orders import OrderEvent

SCHEMA_DIR = Path(__file__).parent / "json"
EXPORTED: tuple[type[BaseModel], ...] = (*ALL_EVENTS, OrderEvent)


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{model.__name__}.schema.json", **schema}


def render(model: type[BaseModel]) -> str:
    return json.dumps(schema_of(model), indent=2, sort_keys=True) + "\n"


def path_of(model: type[BaseModel]) -> Path:
    return SCHEMA_DIR / f"{model.__name__}.schema.json"


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for model in EXPORTED:
        path_of(model).write_text(render(model))
        print(f"wrote {path_of(model)}")


if __name__ == "__main__":
    main()
