"""docs/webhooks.md's event catalogue is every public event the worker can deliver, in the order of
ALL_PUBLIC_EVENTS, each with its JSON Schema: a new event type fails here until the docs name it."""

from pathlib import Path

from schemas.public_events import ALL_PUBLIC_EVENTS

DOCS = Path(__file__).parents[2] / "docs" / "webhooks.md"
SCHEMAS = Path(__file__).parents[2] / "schemas" / "json"


def catalogue_row(event: type) -> str:
    name = event.__name__
    kind = event.model_fields["type"].default  # type: ignore[attr-defined]
    when = (event.__doc__ or "").strip().splitlines()[0]
    return f"| `{kind}` | {when} | [`{name}.schema.json`](../schemas/json/{name}.schema.json) |"


def test_the_catalogue_lists_every_public_event_with_its_schema() -> None:
    rows = [line for line in DOCS.read_text().splitlines() if line.endswith(".schema.json) |")]
    assert rows == [catalogue_row(event) for event in ALL_PUBLIC_EVENTS]
    assert all((SCHEMAS / f"{event.__name__}.schema.json").is_file() for event in ALL_PUBLIC_EVENTS)
