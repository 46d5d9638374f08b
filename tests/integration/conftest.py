"""Fixtures over the real services: Kafka, a MongoDB-wire server and S3-compatible storage.

With a Docker engine, testcontainers starts them; without one, the project's local processes are
started by `deploy/local/services.sh` (idempotent). Every test run gets its own topic prefix,
database and bucket, so runs never see each other's data.
"""

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aioboto3
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from infra.settings import Settings
from tests.factories import encoded, order_event

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


@dataclass(frozen=True)
class Endpoints:
    kafka: str
    mongo_url: str
    s3_url: str
    s3_key: str
    s3_secret: str


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
        mongo_url="mongodb://127.0.0.1:27017",
        s3_url="http://127.0.0.1:9000",
        s3_key=os.environ.get("MINIO_ROOT_USER", "minioadmin"),
        s3_secret=os.environ.get("MINIO_ROOT_PASSWORD", "minioadmin"),
    )


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


def env_for(endpoints: Endpoints, run_id: str, **overrides: str) -> dict[str, str]:
    """The environment of a service process for this test run (INVOICE_* settings)."""
    values = {
        "INVOICE_KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka,
        "INVOICE_TOPIC_PREFIX": f"test-{run_id}-",
        "INVOICE_MONGO_URL": endpoints.mongo_url,
        "INVOICE_MONGO_DATABASE": f"test_{run_id}",
        "INVOICE_STORAGE": "s3",
        "INVOICE_S3_ENDPOINT_URL": endpoints.s3_url,
        "INVOICE_S3_BUCKET": f"test-{run_id}",
        "INVOICE_S3_ACCESS_KEY_ID": endpoints.s3_key,
        "INVOICE_S3_SECRET_ACCESS_KEY": endpoints.s3_secret,
        "INVOICE_WORKER_DATA_DIR": str(ROOT / ".local" / "test-worker" / run_id),
        "INVOICE_LOCAL_STORAGE_DIR": str(ROOT / ".local" / "test-invoices" / run_id),
        "INVOICE_LOG_LEVEL": "INFO",
    }
    values.update(overrides)
    return values


@pytest.fixture(scope="session")
def service_env(endpoints: Endpoints, run_id: str) -> dict[str, str]:
    return env_for(endpoints, run_id)


@pytest.fixture(scope="session")
def settings(service_env: dict[str, str]) -> Settings:
    return Settings.model_validate({key.removeprefix("INVOICE_").lower(): value for key, value in service_env.items()})


async def wait_for(check: Callable[[], Awaitable[T | None]], *, timeout: float, what: str) -> T:
    """Poll `check` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.2)


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
    kafka = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
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


WORKER_COMMAND = [sys.executable, "-m", "cli", "worker"]


class WorkerProcess:
    """A Faust worker (by default `invoice-service worker`) as a real process, its output in a log file
    under .local/logs; started means Faust said "Ready"."""

    def __init__(self, env: dict[str, str], name: str, command: list[str] = WORKER_COMMAND) -> None:
        self.command = command
        self.env = {**os.environ, **env}
        self.log_path = ROOT / ".local" / "logs" / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

        async def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}; see {self.log_path}")
            with self.log_path.open("rb") as f:
                f.seek(offset)
                return b"Ready" in f.read()

        await wait_for(ready, timeout=90, what=f"the worker to start (log: {self.log_path})")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
async def worker(service_env: dict[str, str], s3_bucket: str, run_id: str) -> AsyncIterator[WorkerProcess]:
    process = WorkerProcess(service_env, f"test-worker-{run_id}")
    await process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
async def api(settings: Settings, s3_bucket: str) -> AsyncIterator[httpx.AsyncClient]:
    from service.app import create_app

    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        yield client


@pytest.fixture
def tenant() -> str:
    """A fresh tenant per test: tests never see each other's orders, jobs or invoice numbers."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def new_order_event() -> Callable[..., dict[str, Any]]:
    return order_event
