"""Fixtures over the real services: Kafka, a MongoDB-wire server and S3-compatible storage.

With a Docker engine, testcontainers starts them; without one, the project's local processes are
started by `deploy/local/services.sh` (idempotent). Every test run gets its own topic prefix,
database and bucket, so runs never see each other's data.
"""

import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aioboto3
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from infra.kafka import kafka_client_options
from infra.settings import Settings
from tests.factories import encoded, order_event
from tests.fakes import FakePaymentGateway, SmtpSink, fakes_env
from tests.integration.store_contracts import stores  # noqa: F401  (the store contract tests' fixture)
from tests.support import ROOT, Endpoints, WorkerProcess, api_client, env_for, settings_for


def docker_engine_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def endpoints() -> Iterator[Endpoints]:
    if docker_engine_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.minio import MinioContainer
        from testcontainers.mongodb import MongoDbContainer

        with (
            KafkaContainer("confluentinc/cp-kafka:7.7.1").with_kraft() as kafka,
            MongoDbContainer("mongo:7") as mongo,
            MinioContainer() as minio,
        ):
            config = minio.get_config()
            yield Endpoints(
                kafka=kafka.get_bootstrap_server(),
                mongo_url=mongo.get_connection_url(),
                s3_url=f"http://{config['endpoint']}",
                s3_key=config["access_key"],
                s3_secret=config["secret_key"],
            )
        return
    subprocess.run(["bash", str(ROOT / "deploy" / "local" / "services.sh"), "start"], check=True)
    yield Endpoints(
        kafka="127.0.0.1:9092",
        # Another MongoDB-wire server for this run (say, a private FerretDB while the shared one is busy).
        mongo_url=os.environ.get("INVOICE_TEST_MONGO_URL", "mongodb://127.0.0.1:27017"),
        s3_url="http://127.0.0.1:9000",
        s3_key=os.environ.get("MINIO_ROOT_USER", "minioadmin"),
        s3_secret=os.environ.get("MINIO_ROOT_PASSWORD", "minioadmin"),
    )


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


# The outside world of payments and email, as real servers in this process (tests/fakes.py).
GATEWAY_API_KEY = "sk_test_" + uuid.uuid4().hex
SMTP_USERNAME = "invoice-service"
SMTP_PASSWORD = "smtp-" + uuid.uuid4().hex
DEFAULT_SENDER = "invoices@service.example"


@pytest.fixture(scope="session")
def payment_gateway() -> Iterator[FakePaymentGateway]:
    with FakePaymentGateway(GATEWAY_API_KEY, slow_seconds=3.0) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink(SMTP_USERNAME, SMTP_PASSWORD) as sink:
        yield sink


@pytest.fixture(scope="session")
def service_env(
    endpoints: Endpoints, run_id: str, payment_gateway: FakePaymentGateway, smtp_sink: SmtpSink
) -> dict[str, str]:
    return env_for(
        endpoints,
        run_id,
        **fakes_env(payment_gateway, smtp_sink),
        INVOICE_EMAIL_DEFAULT_SENDER=DEFAULT_SENDER,
        INVOICE_REFUND_RETRY_INITIAL_SECONDS="0.5",
        INVOICE_REFUND_RETRY_MAX_SECONDS="2",
        INVOICE_SCHEDULE_CHECK_SECONDS="1",
    )


@pytest.fixture(scope="session")
def settings(service_env: dict[str, str]) -> Settings:
    return settings_for(service_env)


@pytest.fixture(scope="session")
async def s3_bucket(settings: Settings) -> AsyncIterator[str]:
    session = aioboto3.Session(
        aws_access_key_id=settings.s3_access_key_id.get_secret_value(),
        aws_secret_access_key=settings.s3_secret_access_key.get_secret_value(),
        region_name=settings.s3_region,
    )
    async with session.client("s3", endpoint_url=settings.s3_endpoint_url) as s3:
        await s3.create_bucket(Bucket=settings.s3_bucket)
        yield settings.s3_bucket
        listed = await s3.list_objects_v2(Bucket=settings.s3_bucket)
        for item in listed.get("Contents", []):
            await s3.delete_object(Bucket=settings.s3_bucket, Key=item["Key"])
        await s3.delete_bucket(Bucket=settings.s3_bucket)


@pytest.fixture(scope="session")
async def mongo_db(settings: Settings) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url.get_secret_value(), tz_aware=True)
    yield client[settings.mongo_database]
    await client.drop_database(settings.mongo_database)
    await client.close()


@pytest.fixture(scope="session")
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(**kafka_client_options(settings), acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()


@pytest.fixture(scope="session")
def publish_orders(producer: AIOKafkaProducer, settings: Settings) -> Callable[..., Awaitable[None]]:
    async def publish(tenant: str, *events: dict[str, Any]) -> None:
        topic = settings.topic(settings.topic_order_events)
        for event in events:
            await producer.send_and_wait(topic, encoded(event), key=f"{tenant}:{event['order']['id']}".encode())

    return publish


@pytest.fixture(scope="session")
def stored_order(mongo_db: Any) -> Callable[[str, str], Awaitable[dict[str, Any] | None]]:
    async def find(tenant: str, order_id: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await mongo_db.orders.find_one({"_id": f"{tenant}:{order_id}"})
        return doc

    return find


@pytest.fixture(scope="session")
async def worker(service_env: dict[str, str], s3_bucket: str, run_id: str) -> AsyncIterator[WorkerProcess]:
    process = WorkerProcess(service_env, f"test-worker-{run_id}")
    await process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
async def second_worker(
    worker: WorkerProcess, service_env: dict[str, str], run_id: str
) -> AsyncIterator[WorkerProcess]:
    """Another worker in the same consumer group, for the tests of a module that need two: the topics'
    partitions are shared between both, as with any number of workers in production."""
    process = WorkerProcess(service_env, f"test-worker-2-{run_id}")
    await process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
async def api(settings: Settings, s3_bucket: str) -> AsyncIterator[httpx.AsyncClient]:
    from bootstrap.api import build_api

    app = build_api(settings)
    async with api_client(app, settings) as client:
        yield client


@pytest.fixture(scope="session")
async def unconsumed_api(settings: Settings, s3_bucket: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API publishing to topics of their own that no worker of this run reads: for tests of what the
    API accepts (say, a job of 10,000 orders) whose jobs must not keep the tests' worker busy afterwards."""
    from bootstrap.api import build_api

    unconsumed = settings.model_copy(update={"topic_prefix": f"{settings.topic_prefix}unconsumed-"})
    async with api_client(build_api(unconsumed), unconsumed) as client:
        yield client


@pytest.fixture
def tenant() -> str:
    """A fresh tenant per test: tests never see each other's orders, jobs or invoice numbers."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def new_order_event() -> Callable[..., dict[str, Any]]:
    return order_event
