"""The human CLI (`invoice-service jobs|invoices|credit-notes`) against the API running as a real
process on a real port, as a user runs it, with a client's ID and secret from the environment."""

import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from cli import app
from infra.clients import SCOPE_MANAGE, SCOPE_READ, ClientRepository
from tests.factories import order_event
from tests.integration.flows import stored
from tests.support import ROOT, WorkerProcess, wait_for

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
async def api_url(service_env: dict[str, str], s3_bucket: str) -> AsyncIterator[str]:
    port = free_port()
    log_path = ROOT / ".local" / "logs" / f"cli-api-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "api", "--port", str(port)],
            env={**os.environ, **service_env},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    async def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the API exited with {process.returncode}; see {log_path}")
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"{url}/health/live")).status_code == 200
        except httpx.TransportError:
            return False

    try:
        await wait_for(answers, timeout=60, what=f"the API on port {port} (log: {log_path})")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
async def cli_env(api_url: str, mongo_db: Any, tenant: str) -> dict[str, str]:
    client, secret = await ClientRepository(mongo_db).create(tenant, {SCOPE_MANAGE, SCOPE_READ})
    return {"INVOICE_API_URL": api_url, "INVOICE_CLIENT_ID": client.client_id, "INVOICE_CLIENT_SECRET": secret}


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={**env, "COLUMNS": "200"})


async def test_a_user_invoices_orders_watches_the_job_and_saves_the_pdf(
    cli_env: dict[str, str],
    worker: WorkerProcess,
    publish_orders: Callable[..., Awaitable[None]],
    stored_order: Callable[[str, str], Awaitable[Any]],
    tenant: str,
    tmp_path: Path,
) -> None:
    await publish_orders(tenant, order_event(tenant, "o-1"), order_event(tenant, "o-2"))
    await stored(stored_order, tenant, "o-1", "o-2")

    created = run(cli_env, "jobs", "create", "--orders", "o-1,o-2,nope", "--watch", "--poll-seconds", "0.3")
    assert created.exit_code == 1, created.output  # one order failed: the exit code says so
    assert "done: 2 invoiced, 1 failed" in created.output
    assert "nope: Order nope not found" in created.output
    job_id = created.output.split()[0]
    assert len(job_id) == 32

    listed = run(cli_env, "invoices", "list", "--job", job_id)
    assert listed.exit_code == 0, listed.output
    numbers = [line.split()[1] for line in listed.output.splitlines() if "INV-" in line]
    assert len(numbers) == 2

    pdf = tmp_path / "invoice.pdf"
    got = run(cli_env, "invoices", "get", numbers[0], "--pdf", str(pdf))
    assert got.exit_code == 0, got.output
    assert pdf.read_bytes().startswith(b"%PDF")
    assert '"lines"' in got.output

    whole = run(cli_env, "credit-notes", "create", numbers[0], "--reason", "returned")
    assert whole.exit_code == 0 and '"IN_PROGRESS"' in whole.output, whole.output
    one_unit = run(cli_env, "credit-notes", "create", numbers[1], "--reason", "broken", "--line", "1:1")
    assert one_unit.exit_code == 0 and '"creditNoteId"' in one_unit.output, one_unit.output

    jobs = run(cli_env, "jobs", "list", "--status", "DONE")
    assert jobs.exit_code == 0 and job_id in jobs.output

    watched = run(cli_env, "jobs", "watch", job_id)
    assert watched.exit_code == 1 and "done: 2 invoiced, 1 failed" in watched.output


async def test_errors_are_the_apis_own_messages(cli_env: dict[str, str], tenant: str) -> None:
    unknown = run(cli_env, "invoices", "get", "INV-424242")
    assert unknown.exit_code == 1
    assert "404: Invoice INV-424242 not found" in unknown.output

    wrong_secret = run({**cli_env, "INVOICE_CLIENT_SECRET": "wrong"}, "jobs", "list")
    assert wrong_secret.exit_code == 1
    assert f"no token for client {cli_env['INVOICE_CLIENT_ID']}" in wrong_secret.output

    bad_line = run(cli_env, "credit-notes", "create", "INV-1", "--reason", "broken", "--line", "1:zero")
    assert bad_line.exit_code == 2
    assert "ENTRY:QUANTITY" in bad_line.output

    other_tenant = run({**cli_env, "INVOICE_TENANT": "tother" + tenant[1:8]}, "jobs", "list")
    assert other_tenant.exit_code == 1
    assert "403" in other_tenant.output
