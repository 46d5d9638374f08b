"""Write the JSON Schema of every event model, and an AsyncAPI document of the topics, into
schemas/json/ (`python -m schemas.export`).

A unit test fails when a committed file no longer matches the models, so the exported files are
always what the code sends and accepts. The topics are those of schemas/topics.py, by their default
names (infra/settings.py).
"""

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.events import ALL_EVENTS
from schemas.orders import OrderEvent
from schemas.public_events import ALL_PUBLIC_EVENTS, PublicEvent
from schemas.topics import TOPICS

SCHEMA_DIR = Path(__file__).parent / "json"
EXPORTED: tuple[type[BaseModel], ...] = (*ALL_EVENTS, OrderEvent, *ALL_PUBLIC_EVENTS)


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{model.__name__}.schema.json", **schema}


def render(model: type[BaseModel]) -> str:
    return json.dumps(schema_of(model), indent=2, sort_keys=True) + "\n"


def path_of(model: type[BaseModel]) -> Path:
    return SCHEMA_DIR / f"{model.__name__}.schema.json"


# The CloudEvents headers of the public events (Kafka protocol binding, binary content mode).
CLOUD_EVENT_HEADERS: dict[str, Any] = {
    "type": "object",
    "required": ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "ce_subject", "content-type"],
    "properties": {
        "ce_specversion": {"const": "1.0"},
        "ce_id": {"type": "string", "description": "sha256 of tenant, subject, type and the state change"},
        "ce_type": {"type": "string", "description": "the event's `type` field"},
        "ce_source": {"type": "string", "description": "/invoice-service/{tenant}"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "orderId, or jobId for job.completed"},
        "content-type": {"const": "application/json"},
    },
}
ASYNCAPI_PATH = SCHEMA_DIR / "asyncapi.json"


def asyncapi() -> dict[str, Any]:
    """AsyncAPI 3.0 description of the topics, for stream monitoring and catalogue tools."""
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Invoice Service events",
            "version": "1.0.0",
            "description": "Kafka topics of the invoice service. Values are JSON; keys are UTF-8 strings.",
        },
        "channels": {
            spec.default: {
                "address": spec.default,
                "description": f"Key: {spec.key_description}. Written by {spec.writer}. {spec.description}".strip(),
                "messages": {
                    model.__name__: {"$ref": f"#/components/messages/{model.__name__}"} for model in spec.records
                },
            }
            for spec in TOPICS
        },
        "components": {
            "messages": {
                model.__name__: {
                    "name": model.__name__,
                    "contentType": "application/json",
                    "payload": {"$ref": f"./{path_of(model).name}"},
                    **({"headers": CLOUD_EVENT_HEADERS} if issubclass(model, PublicEvent) else {}),
                }
                for model in EXPORTED
            }
        },
    }


def render_asyncapi() -> str:
    return json.dumps(asyncapi(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for model in EXPORTED:
        path_of(model).write_text(render(model))
        print(f"wrote {path_of(model)}")
    ASYNCAPI_PATH.write_text(render_asyncapi())
    print(f"wrote {ASYNCAPI_PATH}")


if __name__ == "__main__":
    main()
