"""OpenTelemetry tracing of both processes: off unless OTEL_EXPORTER_OTLP_ENDPOINT or INVOICE_TRACING=true
is set. Spans go to the OTLP/HTTP exporter, configured by the standard OTEL_* variables (endpoint,
headers, OTEL_SERVICE_NAME ...). The trace crosses Kafka as a W3C `traceparent` (and `tracestate`) record
header: Faust has no OpenTelemetry instrumentation, so the agents carry it themselves with these helpers.
While tracing is off, the API's tracer is a no-op and every helper here costs next to nothing.

A signed link's signature lets whoever holds it fetch that invoice until it expires, and the HTTP
instrumentation records the full URL (http.url, url.query ...): every span is scrubbed of signature
values (ours and S3's X-Amz-Signature) on its way to the exporter, as the access log is (infra/logs.py).
"""

import os
from collections.abc import Iterable, Mapping, Sequence

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from infra.logs import redact_signatures
from infra.settings import Settings

tracer = trace.get_tracer("invoice-service")

KafkaHeaders = Mapping[str, bytes] | Iterable[tuple[str, bytes]] | None


def tracing_wanted(settings: Settings) -> bool:
    return settings.tracing or bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def configure_tracing(settings: Settings, service_name: str, exporter: SpanExporter | None = None) -> bool:
    """Install the SDK's tracer provider for this process when tracing is wanted (or an exporter is
    given, as tests do); returns whether it did."""
    if exporter is None:
        if not tracing_wanted(settings):
            return False
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    trace.set_tracer_provider(tracer_provider(service_name, exporter))
    return True


def tracer_provider(service_name: str, exporter: SpanExporter) -> TracerProvider:
    """The SDK's provider: spans batched to `exporter`, scrubbed of link signatures first."""
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", service_name)})
    )
    provider.add_span_processor(BatchSpanProcessor(ScrubSignatures(exporter)))
    return provider


def scrubbed(span: ReadableSpan) -> ReadableSpan:
    """The span, every attribute that holds a signature (a URL, a query) with it redacted."""
    attributes = dict(span.attributes or {})
    changed = {
        name: redacted
        for name, value in attributes.items()
        if isinstance(value, str) and (redacted := redact_signatures(value)) != value
    }
    if not changed:
        return span
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes | changed,
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class ScrubSignatures(SpanExporter):
    """Hands `exporter` the spans with signatures redacted (the instrumentations offer no hook that
    sees every attribute: the ASGI middleware sets the URL again after its request hook ran)."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._exporter.export([scrubbed(span) for span in spans])

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._exporter.force_flush(timeout_millis)


def trace_headers() -> list[tuple[str, bytes]]:
    """The current span's context as Kafka record headers (W3C trace context); none without a span."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [(name, value.encode()) for name, value in carrier.items()]


def context_from(headers: KafkaHeaders) -> Context:
    """The trace context a record carries in its headers (an empty context when it carries none)."""
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    carrier = {name.lower(): value.decode(errors="replace") for name, value in pairs if isinstance(value, bytes)}
    return propagate.extract(carrier)
