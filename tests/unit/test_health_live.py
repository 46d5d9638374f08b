"""GET /health/live, the Kubernetes liveness probe (deploy/k8s): 200 without touching any dependency, so
an outage of Kafka, MongoDB or S3 never restarts the API pods; /health (readiness) reports those."""

import time

from pydantic import SecretStr

from bootstrap.api import build_api
from infra.settings import Settings
from tests.support import api_client

# Nothing listens on port 1: any dependency the endpoint touched would fail or time out.
UNREACHABLE = Settings(
    environment="local",
    kafka_bootstrap_servers="127.0.0.1:1",
    mongo_url=SecretStr("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=2000"),
    storage="s3",
    s3_endpoint_url="http://127.0.0.1:1",
    kafka_timeout_seconds=2.0,
)


async def test_live_answers_200_while_every_dependency_is_down() -> None:
    app = build_api(UNREACHABLE)
    async with api_client(app, UNREACHABLE, authorised=False) as client:
        started = time.monotonic()
        live = await client.get("/health/live")
        elapsed = time.monotonic() - started
        assert live.status_code == 200
        assert live.json() == {"status": "up"}
        assert elapsed < 1.0  # no dependency timeout was waited for

        ready = await client.get("/health")  # the readiness probe: the same pod is not ready
        assert ready.status_code == 503


def test_live_needs_no_token() -> None:
    operation = build_api(UNREACHABLE).openapi()["paths"]["/health/live"]["get"]
    assert "security" not in operation
