"""Spans of the agents, continued from the trace context their records carry (infra/tracing.py), so
one trace runs from the API's POST through the plan, each order's steps and the projection."""

from collections.abc import AsyncIterator, Sequence
from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace import Link, SpanKind

from infra.tracing import context_from, tracer


async def traced_events(events: AsyncIterator[Any], name: str) -> AsyncIterator[Any]:
    """The agent's events, each handled inside a consumer span that continues the record's trace. (The
    loop body runs while this generator waits at `yield`, in the same task, so the span is current.)"""
    async for event in events:
        with tracer.start_as_current_span(name, context=context_from(event.headers), kind=SpanKind.CONSUMER):
            yield event


async def traced_batches(batches: AsyncIterator[Sequence[Any]], name: str) -> AsyncIterator[Sequence[Any]]:
    """Batches of events, each handled inside one span: a child of the first record's trace, linked to
    the traces of all of them (a batch folds results of many orders, often of several jobs)."""
    async for events in batches:
        contexts = [trace.get_current_span(context_from(event.headers)).get_span_context() for event in events]
        parent = context_from(events[0].headers) if events else context.get_current()
        links = [Link(span_context) for span_context in contexts if span_context.is_valid]
        with tracer.start_as_current_span(name, context=parent, kind=SpanKind.CONSUMER, links=links):
            yield events
