"""The API's side of Kafka: publish one event and wait until the broker has it, or fail fast."""

import asyncio
from contextlib import suppress

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from infra.metrics import KAFKA_ERRORS
from infra.settings import Settings
from infra.tracing import trace_headers


class KafkaUnavailable(Exception):
    pass


class KafkaPublisher:
    """Started on first use, so the API starts (and answers 503) while Kafka is down."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._timeout = settings.kafka_timeout_seconds
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._settings.kafka_bootstrap_servers,
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

    async def publish(self, topic: str, key: str, value: bytes) -> None:
        producer = await self._started()
        try:
            await asyncio.wait_for(
                producer.send_and_wait(topic, value=value, key=key.encode(), headers=trace_headers()), self._timeout
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


async def ensure_topics(bootstrap_servers: str, names: list[str], partitions: int, replication: int = 1) -> None:
    """Create the topics that do not exist yet. Consumers subscribed to a missing topic ignore it until
    their next metadata refresh (minutes), and production clusters often forbid auto-creation."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="invoice-topics")
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
