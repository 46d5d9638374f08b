"""OpenTelemetry tracing of both processes: off unless OTEL_EXPORTER_OTLP_ENDPOINT or INVOICE_TRACING=true
is set. Spans go to the OTLP/HTTP exporter, configured by the standard OTEL_* variables (endpoint,
headers, OTEL_SERVICE_NAME ...). The trace crosses Kafka as a W3C `traceparent` (and `tracestate`) record
header: Faust has no OpenTelemetry instrumentation, so the agents carry it themselves with these helpers.
While tracing is off, the API's tracer is a no-op and every helper here costs next to nothing.
"""

import os
from collections.abc import Iterable, Mapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

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
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", service_name)})
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return True


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
