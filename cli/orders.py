"""`invoice-service orders publish FILE`: order events from a file onto the order events topic, for
demos, migrations and tests. Each event is checked against the contract first; the valid ones are
published as they were written (numbers keep their exact digits), the others are reported."""

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from infra.kafka import KafkaPublisher, KafkaUnavailable, ensure_topics
from infra.settings import get_settings
from schemas.orders import OrderEvent, parse_order_event
from schemas.topics import ORDER_EVENTS

orders = typer.Typer(help="Feed order events in.", no_args_is_help=True)


@dataclass(frozen=True)
class RawEvent:
    where: str  # "line 3" (NDJSON) or "item 3" (JSON array), for the report
    text: str


def raw_events(text: str) -> Iterator[RawEvent]:
    """The events of a JSON array or of NDJSON (one event per line), each as its own exact text."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        decoder = json.JSONDecoder()
        position, item = text.index("[") + 1, 0
        while True:
            while position < len(text) and text[position] in " \t\r\n,":
                position += 1
            if position >= len(text):
                raise ValueError("the JSON array is not closed with ]")
            if text[position] == "]":
                return
            item += 1
            try:
                _, end = decoder.raw_decode(text, position)
            except json.JSONDecodeError as error:
                raise ValueError(f"item {item} is not valid JSON: {error}") from None
            yield RawEvent(f"item {item}", text[position:end])
            position = end
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield RawEvent(f"line {number}", line.strip())


def describe(error: ValidationError | ValueError) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in error.errors())
    return str(error)


def check(event: RawEvent) -> OrderEvent | str:
    """The parsed event, or why it is rejected."""
    try:
        return parse_order_event(event.text, get_settings().max_order_lines)
    except (ValidationError, ValueError) as error:
        return describe(error)


async def publish(valid: list[tuple[OrderEvent, RawEvent]]) -> None:
    settings = get_settings()
    publisher = KafkaPublisher(settings)
    topic = settings.topic(settings.topic_order_events)
    try:
        # With the partitions the worker expects: a topic auto-created by this first publish (say, the
        # demo seed of `make run` before the worker started) would get the broker's default instead.
        await ensure_topics(settings, [topic])
    except KafkaError as error:
        await publisher.close()
        raise KafkaUnavailable(str(error)) from error
    try:
        for parsed, raw in valid:
            await publisher.publish(topic, ORDER_EVENTS.key_text(parsed), raw.text.encode())
    finally:
        await publisher.close()


@orders.command("publish")
def publish_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="JSON array or NDJSON")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only check the events; publish nothing.")] = False,
) -> None:
    """Publish order events (key tenant:orderId). Exits 1 when any event was rejected; the valid ones are
    published all the same."""
    try:
        events = list(raw_events(file.read_text(encoding="utf-8")))
    except (ValueError, UnicodeDecodeError) as error:
        typer.echo(f"{file}: {error}", err=True)
        raise typer.Exit(2) from None
    valid: list[tuple[OrderEvent, RawEvent]] = []
    rejected = 0
    for event in events:
        result = check(event)
        if isinstance(result, str):
            rejected += 1
            typer.echo(f"rejected {event.where}: {result}", err=True)
        else:
            valid.append((result, event))
    if valid and not dry_run:
        try:
            asyncio.run(publish(valid))
        except KafkaUnavailable as error:
            typer.echo(f"Kafka did not take the events: {error}", err=True)
            raise typer.Exit(3) from None
    verb = "valid (dry run, nothing published)" if dry_run else "published"
    typer.echo(f"{len(valid)} {verb}, {rejected} rejected")
    if rejected:
        raise typer.Exit(1)
