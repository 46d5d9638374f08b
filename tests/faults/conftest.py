"""The fault suite's own set of services: Kafka, PostgreSQL + FerretDB and MinIO started by
deploy/local/services.sh on free ports with their own data folder, from the installed binaries (the
script installs them first where they are missing, as in CI). The tests kill and restart these, never
the shared ones. Started once per session, stopped and removed at its end."""

import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aioboto3
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from infra.kafka import kafka_client_options
from infra.settings import Settings
from tests.fakes import FakePaymentGateway, SmtpSink, fakes_env, free_port
from tests.support import ROOT, Endpoints, WorkerProcess, api_client, env_for, settings_for, wait_for

SERVICES_SCRIPT = ROOT / "deploy" / "local" / "services.sh"
GATEWAY_API_KEY = "sk_test_" + uuid.uuid4().hex
SMTP_USERNAME, SMTP_PASSWORD = "invoice-service", "smtp-" + uuid.uuid4().hex
JOB_SIZE = 200  # orders per fault's job, as the issue asks


class PrivateServices:
    """One set of the local services; `kill` is SIGKILL by pid, `stop`/`start` go through services.sh."""

    def __init__(self, local_dir: Path, installation: Path) -> None:
        self.local_dir = local_dir
        self.ports = {
            name: free_port()
            for name in (
                "KAFKA_PORT",
                "KAFKA_CONTROLLER_PORT",
                "KAFKA_SASL_PORT",
                "POSTGRES_PORT",
                "MONGO_PORT",
                "MINIO_PORT",
            )
        }
        self.ports["MINIO_CONSOLE_PORT"] = free_port()
        self.env = {
            **os.environ,
            **{name: str(port) for name, port in self.ports.items()},
            "LOCAL_DIR": str(local_dir),
            "BIN_DIR": str(installation / "bin"),
            "KAFKA_HOME": str(installation / "kafka"),
            "FERRETDB_DEBUG_ADDR": "-",
        }
        self.endpoints = Endpoints(
            kafka=f"127.0.0.1:{self.ports['KAFKA_PORT']}",
            mongo_url=f"mongodb://127.0.0.1:{self.ports['MONGO_PORT']}",
            s3_url=f"http://127.0.0.1:{self.ports['MINIO_PORT']}",
            s3_key=os.environ.get("MINIO_ROOT_USER", "minioadmin"),
            s3_secret=os.environ.get("MINIO_ROOT_PASSWORD", "minioadmin"),
        )

    def _script(self, command: str, *services: str) -> None:
        subprocess.run(["bash", str(SERVICES_SCRIPT), command, *services], env=self.env, check=True)

    def start(self, *services: str) -> None:
        self._script("start", *services)

    def stop(self, *services: str) -> None:
        self._script("stop", *services)

    def pid(self, service: str) -> int:
        return int((self.local_dir / "run" / f"{service}.pid").read_text())

    async def kill(self, service: str) -> None:
        """SIGKILL, as a crash or the OOM killer would, and wait until the process is gone."""
        pid = self.pid(service)
        os.kill(pid, signal.SIGKILL)

        async def gone() -> bool:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            return False

        await wait_for(gone, timeout=30, what=f"{service} (pid {pid}) to die")


@pytest.fixture(scope="session")
def private_services() -> Iterator[PrivateServices]:
    installation = Path(os.environ.get("LOCAL_DIR", ROOT / ".local"))
    # Under /tmp and readable by all: PostgreSQL runs as its own user and must reach its data folder.
    local_dir = Path(tempfile.mkdtemp(prefix="invoice-faults-"))
    local_dir.chmod(0o755)
    services = PrivateServices(local_dir, installation)
    try:
        services.start()
        yield services
    finally:
        services.stop()
        shutil.rmtree(local_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def fault_gateway() -> Iterator[FakePaymentGateway]:
    with FakePaymentGateway(GATEWAY_API_KEY, slow_seconds=3.0) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def fault_smtp() -> Iterator[SmtpSink]:
    with SmtpSink(SMTP_USERNAME, SMTP_PASSWORD) as sink:
        yield sink


@pytest.fixture(scope="session")
def fault_env(
    private_services: PrivateServices, fault_gateway: FakePaymentGateway, fault_smtp: SmtpSink
) -> dict[str, str]:
    run_id = "f" + uuid.uuid4().hex[:9]
    return env_for(
        private_services.endpoints,
        run_id,
        **fakes_env(fault_gateway, fault_smtp),
        # The worker's log is JSON, so the suite also checks that its lines name tenant, job and order.
        INVOICE_LOG_JSON="true",
    )


@pytest.fixture(scope="session")
def fault_settings(fault_env: dict[str, str]) -> Settings:
    return settings_for(fault_env)


@pytest.fixture(scope="session")
async def fault_bucket(fault_settings: Settings) -> str:
    session = aioboto3.Session(
        aws_access_key_id=fault_settings.s3_access_key_id.get_secret_value(),
        aws_secret_access_key=fault_settings.s3_secret_access_key.get_secret_value(),
        region_name=fault_settings.s3_region,
    )
    async with session.client("s3", endpoint_url=fault_settings.s3_endpoint_url) as s3:
        await s3.create_bucket(Bucket=fault_settings.s3_bucket)
    return fault_settings.s3_bucket  # removed with the private services' data


@pytest.fixture(scope="session")
async def fault_db(fault_settings: Settings) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        fault_settings.mongo_url.get_secret_value(), tz_aware=True, serverSelectionTimeoutMS=60_000
    )
    yield client[fault_settings.mongo_database]
    await client.close()


@pytest.fixture(scope="session")
async def fault_api(fault_settings: Settings, fault_bucket: str) -> AsyncIterator[httpx.AsyncClient]:
    from bootstrap.api import build_api

    app = build_api(fault_settings)
    async with api_client(app, fault_settings) as client:
        yield client


@pytest.fixture(scope="session")
async def fault_producer(fault_settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(**kafka_client_options(fault_settings), acks="all")
    await kafka.start()
    yield kafka
    await kafka.stop()


Workers = Callable[[str], Awaitable[WorkerProcess]]


@pytest.fixture
async def workers(fault_env: dict[str, str], fault_bucket: str) -> AsyncIterator[Workers]:
    """Starts workers on the private services; every one still running is stopped after the test."""
    started: list[WorkerProcess] = []

    async def start(name: str) -> WorkerProcess:
        process = WorkerProcess(fault_env, f"fault-{name}-{uuid.uuid4().hex[:6]}")
        started.append(process)
        await process.start()
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def tenant() -> str:
    return "f" + uuid.uuid4().hex[:12]


def card(transaction_id: str) -> list[dict[str, Any]]:
    return [
        {
            "method": "credit_card",
            "status": "AUTHORIZED",
            "authorizedAmount": 58.76,
            "transactionId": transaction_id,
            "provider": "fakepay",
        }
    ]


def buyer_address(tenant: str) -> str:
    return f"buyer-{tenant}@example.com"
