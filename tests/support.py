"""Helpers shared by the integration tests and the benchmarks: the service endpoints, a service
process's environment, a Faust worker as a real process, and polling with a deadline."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
from fastapi import FastAPI

from infra.clients import SCOPES
from infra.settings import Settings
from infra.tokens import TokenService

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


@dataclass(frozen=True)
class Endpoints:
    kafka: str
    mongo_url: str
    s3_url: str
    s3_key: str
    s3_secret: str


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
        # Several workers run at once in some tests: none serves /metrics unless a test asks for it.
        "INVOICE_WORKER_METRICS_PORT": "0",
        "INVOICE_JWT_SIGNING_KEY": f"test-signing-key-{run_id}-{run_id}-{run_id}",
        # One link key for every API of the run (as replicas share one), and the local defaults (MinIO's keys).
        "INVOICE_LINK_SIGNING_KEY": f"test-link-key-{run_id}-{run_id}-{run_id}",
        "INVOICE_ENVIRONMENT": "local",
    }
    values.update(overrides)
    return values


def settings_for(env: Mapping[str, str], **overrides: object) -> Settings:
    """The settings a service process started with `env` reads (its INVOICE_* variables)."""
    values = {key.removeprefix("INVOICE_").lower(): value for key, value in env.items() if key.startswith("INVOICE_")}
    return Settings.model_validate(values | overrides)


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


WORKER_COMMAND = [sys.executable, "-m", "cli", "worker"]


class WorkerProcess:
    """A Faust worker (by default `invoice-service worker`) as a real process, its output in a log file
    under .local/logs; started means Faust's worker logged "[^Worker]: Ready" (a traceback quoting the word
    "Ready" from the source is not a start)."""

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
                return b"[^Worker]: Ready" in f.read()

        try:
            await wait_for(ready, timeout=90, what=f"the worker to start (log: {self.log_path})")
        except BaseException:
            self.stop()  # never leave a half-started worker behind
            raise

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: "subprocess.Popen[bytes] | None") -> None:
    """SIGTERM, as an orchestrator stops a service, and SIGKILL when it has not exited within 30 s."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ApiProcess:
    """The API (`invoice-service api`) as a real uvicorn process on 127.0.0.1, its output in a log file
    under .local/logs; started means it answers HTTP (GET /health, whatever the state it reports)."""

    def __init__(self, env: dict[str, str], name: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env}
        self.log_path = ROOT / ".local" / "logs" / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "cli", "api", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"the API exited with {self.process.returncode}; see {self.log_path}")
            try:
                httpx.get(f"{self.url}/health", timeout=2)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"the API did not answer within {timeout:.0f}s; see {self.log_path}") from None
                time.sleep(0.2)  # a process starting, not the stream: nothing to poll but the port

    def stop(self) -> None:
        stop_process(self.process)


class TenantTokens(httpx.Auth):
    """Signs each request to /invoice/{tenant}/... with a token for that tenant holding every scope: the
    tests and benchmarks act as a fully authorised client of whichever tenant they use."""

    def __init__(self, settings: Settings) -> None:
        self.tokens = TokenService(settings)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        parts = request.url.path.split("/")
        if len(parts) > 2 and parts[1] == "invoice" and "authorization" not in request.headers:
            token, _ = self.tokens.issue(client_id="test-client", tenant=parts[2], scopes=frozenset(SCOPES))
            request.headers["Authorization"] = f"Bearer {token}"
        yield request


@asynccontextmanager
async def api_client(app: FastAPI, settings: Settings, authorised: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, and an HTTP client that calls it in process."""
    auth = TenantTokens(settings) if authorised else None
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", auth=auth) as client,
    ):
        yield client
