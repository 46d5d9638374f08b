"""The Faust app and its topics, made from settings (bootstrap/worker.py calls these; nothing here reads
settings at import). The topics are those of the contract (schemas/topics.py). Values are raw bytes: each
agent parses them with the pydantic models of `schemas/`, so a record that does not parse goes to the
dead-letter topic with its reason instead of stopping the partition."""

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import faust
from faust.types.auth import CredentialsT

from infra.kafka import kafka_client_options
from infra.settings import Settings
from schemas import topics as contract
from schemas.topics import TopicSpec

R = TypeVar("R")


def faust_broker_url(bootstrap_servers: str) -> str:
    return ";".join(f"kafka://{server.strip()}" for server in bootstrap_servers.split(","))


def faust_credentials(options: Mapping[str, Any]) -> CredentialsT | None:
    """The worker's Kafka login and TLS as Faust takes them, from the options every other client uses
    (infra/kafka.py kafka_client_options); Faust turns them back into the same aiokafka options."""
    protocol = options["security_protocol"]
    if protocol == "SSL":
        return faust.SSLCredentials(options["ssl_context"])
    if protocol.startswith("SASL_"):
        return faust.SASLCredentials(
            username=options["sasl_plain_username"],
            password=options["sasl_plain_password"],
            mechanism=options["sasl_mechanism"],
            ssl_context=options.get("ssl_context"),  # SASL_SSL with one, SASL_PLAINTEXT without
        )
    return None


def create_faust_app(settings: Settings) -> faust.App:
    return faust.App(
        settings.topic(settings.worker_app_id),
        broker=faust_broker_url(settings.kafka_bootstrap_servers),
        broker_credentials=faust_credentials(kafka_client_options(settings)),
        datadir=str(settings.worker_data_dir / settings.topic(settings.worker_app_id)),
        topic_partitions=settings.topic_partitions,
        # For the topics Faust declares itself (its group leader topic): as many replicas as ours.
        topic_replication_factor=settings.topic_replication_factor,
        producer_acks=-1,
        # A worker killed with SIGKILL holds its partitions until the session times out: keep that short.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        web_enabled=False,
        autodiscover=False,
    )


def topic_name(settings: Settings, spec: TopicSpec[Any]) -> str:
    """The topic's name in this deployment: its setting, with the prefix."""
    return settings.topic(str(getattr(settings, spec.setting)))


@dataclass(frozen=True)
class Topic(Generic[R]):
    """One Faust topic (`channel`, what an agent reads) with its contract: `publish` keys each record by
    the topic's key function, so no sender builds a key by hand."""

    channel: Any
    spec: TopicSpec[R]

    async def send(self, record: R, headers: Sequence[tuple[str, bytes]] | None = None) -> Awaitable[Any]:
        """Hand the record to the producer; the result is awaited for the broker's acknowledgement (a
        sender of many records awaits them together)."""
        value: bytes = cast(Any, record).to_bytes()  # every record type of the contract has it
        pending: Awaitable[Any] = await self.channel.send(key=self.spec.key_of(record), value=value, headers=headers)
        return pending

    async def publish(self, record: R, headers: Sequence[tuple[str, bytes]] | None = None) -> None:
        await (await self.send(record, headers))


@dataclass(frozen=True)
class Topics:
    order_events: Topic[Any]
    job_requests: Topic[Any]
    order_requests: Topic[Any]
    order_results: Topic[Any]
    dead_letters: Topic[Any]
    invoice_emails: Topic[Any]
    public_events: Topic[Any]
    credit_note_requests: Topic[Any]
    refunds: Topic[Any]


def create_topics(app: faust.App, settings: Settings) -> Topics:
    def raw_topic(spec: TopicSpec[Any]) -> Topic[Any]:
        channel = app.topic(
            topic_name(settings, spec),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.topic_partitions,
        )
        return Topic(channel, spec)

    return Topics(
        order_events=raw_topic(contract.ORDER_EVENTS),
        job_requests=raw_topic(contract.JOB_REQUESTS),
        order_requests=raw_topic(contract.ORDER_REQUESTS),
        order_results=raw_topic(contract.ORDER_RESULTS),
        dead_letters=raw_topic(contract.DEAD_LETTERS),
        invoice_emails=raw_topic(contract.INVOICE_EMAILS),
        public_events=raw_topic(contract.PUBLIC_EVENTS),
        credit_note_requests=raw_topic(contract.CREDIT_NOTE_REQUESTS),
        refunds=raw_topic(contract.REFUNDS),
    )
