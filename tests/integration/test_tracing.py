"""One trace from POST .../jobs/invoices through Kafka to each order's steps and the projection.

The API runs in this process with the SDK's in-memory exporter; the worker is a real process that exports
over OTLP/HTTP (its standard exporter, set by OTEL_EXPORTER_OTLP_ENDPOINT) to a small OTLP receiver here.
The module's worker and API use topics of their own, so no other worker handles its records.
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from infra.settings import Settings
from infra.tracing import tracer_provider
from tests.factories import encoded, order_event
from tests.integration.flows import create_job, finished_job, stored
from tests.support import WorkerProcess, api_client, settings_for, wait_for

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    links: tuple[str, ...]  # span IDs


@dataclass
class OtlpReceiver:
    """POST /v1/traces of OTLP/HTTP (protobuf), keeping every span it is sent."""

    spans: list[ReceivedSpan] = field(default_factory=list)

    async def export(self, request: web.Request) -> web.Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.read())
        for resource_spans in message.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        ReceivedSpan(
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            links=tuple(link.span_id.hex() for link in span.links),
                        )
                    )
        body = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=body, content_type="application/x-protobuf")


@dataclass
class Traced:
    settings: Settings
    api: httpx.AsyncClient
    api_spans: InMemorySpanExporter
    worker_spans: OtlpReceiver


API_SPANS = InMemorySpanExporter()


@pytest.fixture(scope="module")
async def traced(service_env: dict[str, str], s3_bucket: str, run_id: str) -> AsyncIterator[Traced]:
    receiver = OtlpReceiver()
    app = web.Application()
    app.router.add_post("/v1/traces", receiver.export)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    env = {
        **service_env,
        "INVOICE_TOPIC_PREFIX": f"test-{run_id}-traced-",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # export within a moment, not every 5 s
    }
    settings = settings_for(env, tracing=True)
    # The API's provider, for this module only: trace.set_tracer_provider takes one per process (a
    # second is refused), so the provider configure_tracing builds is put in place and taken back here,
    # whatever ran before in this process.
    provider = tracer_provider("invoice-api", API_SPANS)
    worker = WorkerProcess(env, f"test-worker-traced-{run_id}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(trace, "_TRACER_PROVIDER", provider)
        await worker.start()
        try:
            from bootstrap.api import build_api

            async with api_client(build_api(settings), settings) as api:
                yield Traced(settings, api, API_SPANS, receiver)
        finally:
            worker.stop()
            provider.shutdown()
            await runner.cleanup()


async def test_one_trace_from_the_post_to_each_order_s_steps_and_the_projection(
    traced: Traced, producer: AIOKafkaProducer, stored_order: Callable[[str, str], Awaitable[dict[str, Any] | None]]
) -> None:
    tenant = "t" + uuid.uuid4().hex[:12]
    order_ids = ["traced-1", "traced-2"]
    topic = traced.settings.topic(traced.settings.topic_order_events)
    for order_id in order_ids:
        await producer.send_and_wait(topic, encoded(order_event(tenant, order_id)), key=f"{tenant}:{order_id}".encode())
    await stored(stored_order, tenant, *order_ids)

    traced.api_spans.clear()
    job_id = await create_job(traced.api, tenant, order_ids)
    provider: Any = trace.get_tracer_provider()
    provider.force_flush()  # the batch processor exports when it is asked to, or every few seconds
    [post] = [
        span
        for span in traced.api_spans.get_finished_spans()
        if span.name == "POST /invoice/{tenant}/jobs/invoices" and span.kind is trace.SpanKind.SERVER
    ]
    trace_id = f"{post.context.trace_id:032x}"
    api_span_ids = {f"{span.context.span_id:016x}" for span in traced.api_spans.get_finished_spans()}
    await finished_job(traced.api, tenant, job_id)

    def of_trace(name: str) -> list[ReceivedSpan]:
        return [span for span in traced.worker_spans.spans if span.name == name and span.trace_id == trace_id]

    def projected_spans() -> set[str]:
        """The spans the projection folded so far: its spans' parents and links (one batch or several)."""
        projections = of_trace("project results")
        return {span_id for span in projections for span_id in span.links} | {span.parent_id for span in projections}

    async def projected() -> bool:
        orders = {span.span_id for span in of_trace("invoice order")}
        return (
            len(orders) == len(order_ids) and orders <= projected_spans() and len(of_trace("email")) == len(order_ids)
        )

    await wait_for(projected, timeout=60, what="the worker's spans of the job")
    [plan] = of_trace("plan job")
    assert plan.parent_id in api_span_ids, "the plan continues the API's trace (traceparent in the Kafka record)"
    orders = of_trace("invoice order")
    assert len(orders) == len(order_ids)
    assert {span.parent_id for span in orders} == {plan.span_id}
    order_span_ids = {span.span_id for span in orders}
    for step in ("validate", "recalculate", "capture", "number", "render", "store", "email"):
        steps = of_trace(step)
        assert len(steps) == len(order_ids), step
        assert {span.parent_id for span in steps} == order_span_ids, step
    # The projection folds a batch of results: a child of the first record's trace, linked to all of them.
    projections = of_trace("project results")
    assert all(span.parent_id in order_span_ids | {plan.span_id} for span in projections)
    assert order_span_ids <= projected_spans()
