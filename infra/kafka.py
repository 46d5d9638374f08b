"""The API's side of Kafka: publish one event and wait until the broker has it, or fail fast."""

import asyncio
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from infra.metrics import KAFKA_ERRORS
from infra.settings import Settings
from infra.tracing import trace_headers


class KafkaUnavailable(Exception):
    pass


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    """The connection options of every Kafka client of the project (aiokafka's producer, consumer and admin
    client keyword arguments; the worker's Faust credentials are made from them, streams/app.py): the
    brokers, TLS (the CA, a client certificate for mutual TLS) and the SASL login. settings.py has refused
    every combination that does not fit at load."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap_servers, "security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        key_password = settings.kafka_ssl_key_password
        # Verifies the broker's certificate and its host name (aiokafka's helper always does).
        options["ssl_context"] = create_ssl_context(
            cafile=settings.kafka_ssl_cafile,
            certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
            password=key_password.get_secret_value() if key_password else None,
        )
    if protocol.startswith("SASL_"):
        password = settings.kafka_sasl_password  # never None here: Settings requires it with SASL
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = password.get_secret_value() if password else None
    return options


class KafkaPublisher:
    """Started on first use, so the API starts (and answers 503) while Kafka is down."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # Made once, at start: a CA or key that does not load stops the API there, not at its first request.
        self._options = kafka_client_options(settings)
        self._timeout = settings.kafka_timeout_seconds
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    **self._options,
                    acks="all",
                    enable_idempotence=True,
                    request_timeout_ms=int(self._timeout * 1000),
                    client_id="invoice-api",
                )
                try:
                    await asyncio.wait_for(producer.start(), self._timeout)
                except (KafkaError, OSError, TimeoutError) as error:
                    KAFKA_ERRORS.labels("connect").inc()
                    await producer.stop()
                    raise KafkaUnavailable(f"Kafka at {self._settings.kafka_bootstrap_servers}: {error!r}") from error
                self._producer = producer
            return self._producer

    async def publish(
        self, topic: str, key: str, value: bytes, headers: Sequence[tuple[str, bytes]] | None = None
    ) -> None:
        producer = await self._started()
        try:
            await asyncio.wait_for(
                producer.send_and_wait(
                    topic, value=value, key=key.encode(), headers=trace_headers() if headers is None else list(headers)
                ),
                self._timeout,
            )
        except (KafkaError, OSError, TimeoutError) as error:
            KAFKA_ERRORS.labels("publish").inc()
            raise KafkaUnavailable(f"publishing to {topic}: {error!r}") from error

    async def check(self) -> None:
        producer = await self._started()
        try:
            await asyncio.wait_for(producer.client.fetch_all_metadata(), self._timeout)
        except (KafkaError, OSError, TimeoutError) as error:
            KAFKA_ERRORS.labels("metadata").inc()
            raise KafkaUnavailable(f"Kafka at {self._settings.kafka_bootstrap_servers}: {error!r}") from error

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


async def ensure_topics(
    settings: Settings, names: list[str], partitions: int | None = None, replication: int | None = None
) -> None:
    """Create the topics that do not exist yet (with the settings' partitions and replicas unless given).
    Consumers subscribed to a missing topic ignore it until their next metadata refresh (minutes), and
    production clusters often forbid auto-creation."""
    partitions = partitions or settings.topic_partitions
    replication = replication or settings.topic_replication_factor
    admin = AIOKafkaAdminClient(**kafka_client_options(settings), client_id="invoice-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, num_partitions=partitions, replication_factor=replication)
            for name in names
            if name not in existing
        ]
        if missing:
            with suppress(TopicAlreadyExistsError):  # another worker created it at the same moment
                await admin.create_topics(missing)
    finally:
        await admin.close()
