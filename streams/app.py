"""The Faust app and its topics, declared once. Values are raw bytes: each agent parses them with the
pydantic models of `schemas/`, so a record that does not parse goes to the dead-letter topic with its
reason instead of stopping the partition."""

from collections.abc import Mapping
from typing import Any

import faust
from faust.types.auth import CredentialsT

from infra.kafka import kafka_client_options
from infra.settings import get_settings

settings = get_settings()


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


app = faust.App(
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


def raw_topic(name: str) -> Any:
    return app.topic(
        settings.topic(name),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.topic_partitions,
    )


order_events = raw_topic(settings.topic_order_events)
job_requests = raw_topic(settings.topic_job_requests)
order_requests = raw_topic(settings.topic_order_requests)
order_results = raw_topic(settings.topic_order_results)
dead_letters = raw_topic(settings.topic_dead_letters)
invoice_emails = raw_topic(settings.topic_invoice_emails)
public_events = raw_topic(settings.topic_invoice_events)
credit_note_requests = raw_topic(settings.topic_credit_note_requests)
refunds = raw_topic(settings.topic_refunds)
