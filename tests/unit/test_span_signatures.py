"""Signed-link signatures never reach the tracing backend: the API's request spans (http.url, url.query,
http.target ...) go to the exporter with every signature value redacted."""

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from bootstrap.api import build_api
from infra.settings import Settings
from infra.tracing import tracer_provider
from tests.support import api_client

TRACED = Settings(
    environment="local",
    tracing=True,
    link_signing_key=SecretStr("k" * 32),
    kafka_bootstrap_servers="127.0.0.1:1",
    mongo_url=SecretStr("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500"),
    storage="local",
)
SECRET = "5ec4e7" * 10 + "abcd"  # 64 hex characters: a well-formed signature
S3_SECRET = "a3" * 32


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """The process's tracer provider, as configure_tracing makes it, for this test only: the API set
    once (trace.set_tracer_provider refuses a second one) would leak into every later test."""
    exporter = InMemorySpanExporter()
    provider = tracer_provider("invoice-api", exporter)
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)
    yield provider, exporter
    provider.shutdown()


async def test_no_span_attribute_holds_a_link_signature(provider: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    tracer_provider_, exporter = provider
    app = build_api(TRACED)
    async with api_client(app, TRACED, authorised=False) as client:
        for path in ("/invoice/demo/invoices/N-1/pdf", "/invoice/demo/invoices/N-1/xml"):
            response = await client.get(f"{path}?expires=9999999999&signature={SECRET}&kid=k1")
            assert response.status_code == 403
        query = f"X-Amz-Signature={S3_SECRET}&signature={SECRET}"
        assert (await client.get(f"/invoice/demo/credit-notes/N-1/pdf?expires=1&{query}")).status_code == 403
    tracer_provider_.force_flush()
    spans = exporter.get_finished_spans()
    assert spans, "the API made no span: the test would prove nothing"
    urls = [value for span in spans for value in (span.attributes or {}).values() if "N-1" in str(value)]
    assert urls, "no span recorded the URL: the test would prove nothing"
    for span in spans:
        for name, value in (span.attributes or {}).items():
            assert SECRET not in str(value) and S3_SECRET not in str(value), f"{span.name}: {name}={value!r}"
    assert any("signature=[redacted]" in str(value) for value in urls)
