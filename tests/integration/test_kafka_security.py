"""Kafka over the local broker's SASL_SSL listener (deploy/local/services.sh): a MANUAL job end to end with
the API and the worker logging in by SCRAM over TLS, every mechanism it offers, and the clients it must
refuse: a wrong password, no TLS, a broker certificate of an unknown CA.

services.sh writes the listener's client settings (address, user, password, CA, client certificate) to
.local/kafka-sasl.env on start; INVOICE_TEST_KAFKA_SASL_ENV names another such file (say, of a private
broker started with its own LOCAL_DIR)."""

import logging
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from dotenv import dotenv_values

from bootstrap.api import build_api
from infra.kafka import KafkaPublisher, KafkaUnavailable, kafka_client_options
from infra.settings import Settings
from tests.factories import encoded
from tests.integration.flows import invoice_events
from tests.support import ROOT, WORKER_COMMAND, WorkerProcess, api_client, settings_for

pytestmark = pytest.mark.integration

SASL_ENV = Path(os.environ.get("INVOICE_TEST_KAFKA_SASL_ENV") or ROOT / ".local" / "kafka-sasl.env")
CLIENT_CERTIFICATE = ("INVOICE_KAFKA_SSL_CERTFILE", "INVOICE_KAFKA_SSL_KEYFILE", "INVOICE_KAFKA_SSL_KEY_PASSWORD")


@pytest.fixture(scope="module")
def listener(endpoints: Any) -> dict[str, str]:
    """The SASL_SSL listener's client settings, as services.sh wrote them (the endpoints fixture ran it)."""
    assert SASL_ENV.exists(), f"{SASL_ENV} is missing: `bash deploy/local/services.sh restart kafka` writes it"
    values = {key: value for key, value in dotenv_values(SASL_ENV).items() if value is not None}
    assert values["INVOICE_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    return values


@pytest.fixture(scope="module")
def secure_env(service_env: dict[str, str], listener: dict[str, str], run_id: str) -> dict[str, str]:
    """This run's service environment on the SASL_SSL listener, with topics of its own: the session's
    PLAINTEXT worker never sees them."""
    return {**service_env, **listener, "INVOICE_TOPIC_PREFIX": f"test-{run_id}-sasl-"}


def without_client_certificate(env: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in env.items() if key not in CLIENT_CERTIFICATE}


@pytest.fixture(scope="module")
def secure_settings(secure_env: dict[str, str]) -> Settings:
    """The API's: SCRAM-SHA-512 over TLS, and a client certificate (mutual TLS) as well."""
    return settings_for(secure_env)


@pytest.fixture(scope="module")
async def secure_worker(secure_env: dict[str, str], s3_bucket: str, run_id: str) -> AsyncIterator[WorkerProcess]:
    """The worker's: SCRAM-SHA-512 over TLS with the CA, no client certificate."""
    process = WorkerProcess(without_client_certificate(secure_env), f"test-worker-sasl-{run_id}")
    await process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
async def secure_api(secure_settings: Settings, s3_bucket: str) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(build_api(secure_settings), secure_settings) as client:
        yield client


@pytest.fixture(scope="module")
async def secure_publish(secure_settings: Settings) -> AsyncIterator[Callable[..., Awaitable[None]]]:
    producer = AIOKafkaProducer(**kafka_client_options(secure_settings), acks="all")
    await producer.start()

    async def publish(tenant: str, *events: dict[str, Any]) -> None:
        topic = secure_settings.topic(secure_settings.topic_order_events)
        for event in events:
            await producer.send_and_wait(topic, encoded(event), key=f"{tenant}:{event['order']['id']}".encode())

    yield publish
    await producer.stop()


async def test_a_manual_job_runs_end_to_end_over_sasl_ssl(
    secure_env: dict[str, str],
    secure_api: httpx.AsyncClient,
    secure_worker: WorkerProcess,
    secure_publish: Callable[..., Awaitable[None]],
    stored_order: Any,
    tenant: str,
    new_order_event: Callable[..., dict[str, Any]],
) -> None:
    health = await secure_api.get("/health")
    assert health.json()["dependencies"]["kafka"] == "up", health.text
    results = await invoice_events(
        secure_api,
        secure_publish,
        stored_order,
        tenant,
        new_order_event(tenant, "secure-1"),
        new_order_event(tenant, "secure-2"),
    )
    assert {order_id: result["orderStatus"] for order_id, result in results.items()} == {
        "secure-1": "SUCCESS",
        "secure-2": "SUCCESS",
    }
    assert len({result["invoiceNumber"] for result in results.values()}) == 2
    assert secure_worker.process is not None and secure_worker.process.poll() is None
    log = secure_worker.log_path.read_text(errors="replace")
    for secret in ("INVOICE_KAFKA_SASL_PASSWORD", "INVOICE_KAFKA_SSL_KEY_PASSWORD"):
        assert secure_env[secret] not in log, f"the worker logged {secret}"


def settings_with(secure_env: dict[str, str], **values: object) -> Settings:
    return settings_for(without_client_certificate(secure_env), kafka_timeout_seconds=10.0, **values)


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"])
async def test_every_offered_mechanism_logs_in(secure_env: dict[str, str], mechanism: str) -> None:
    publisher = KafkaPublisher(settings_with(secure_env, kafka_sasl_mechanism=mechanism))
    try:
        await publisher.check()
    finally:
        await publisher.close()


async def test_a_wrong_password_is_refused_at_once(
    secure_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-" + uuid.uuid4().hex
    settings = settings_with(secure_env, kafka_sasl_password=wrong)
    publisher = KafkaPublisher(settings)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaUnavailable) as refused:
        await publisher.check()
    await publisher.close()
    # Refused by the broker, not timed out: well within the 10 s the client would wait.
    assert time.monotonic() - started < 5
    assert "SaslAuthenticationFailed" in caplog.text, caplog.text
    assert wrong not in str(refused.value) and wrong not in caplog.text


def test_a_worker_with_a_wrong_password_exits_naming_the_refusal(secure_env: dict[str, str]) -> None:
    wrong = "wrong-" + uuid.uuid4().hex
    env = {**os.environ, **without_client_certificate(secure_env), "INVOICE_KAFKA_SASL_PASSWORD": wrong}
    # Run to its end (not WorkerProcess, which waits for "Ready"): a refused worker must exit, not hang.
    worker = subprocess.run(WORKER_COMMAND, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    output = worker.stdout + worker.stderr
    assert worker.returncode != 0, output
    assert "SaslAuthenticationFailed" in output, output
    assert wrong not in output


async def test_a_plaintext_client_cannot_speak_to_the_sasl_ssl_listener(listener: dict[str, str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=listener["INVOICE_KAFKA_BOOTSTRAP_SERVERS"], request_timeout_ms=5000)
    started = time.monotonic()
    with pytest.raises(KafkaConnectionError):
        await producer.start()
    await producer.stop()
    assert time.monotonic() - started < 5


async def test_a_client_refuses_a_broker_its_ca_did_not_sign(
    secure_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Without the listener's CA the client trusts only the system's CAs, and the handshake fails: the
    broker is verified, not just encrypted to."""
    env = {
        key: value for key, value in without_client_certificate(secure_env).items() if key != "INVOICE_KAFKA_SSL_CAFILE"
    }
    publisher = KafkaPublisher(settings_with(env))
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaUnavailable):
        await publisher.check()
    await publisher.close()
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text, caplog.text
