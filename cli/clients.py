"""`invoice-service clients ...`: the API clients of the OAuth2 client-credentials flow."""

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from infra import db
from infra.clients import SCOPES, Client, ClientRepository
from infra.settings import get_settings
from schemas.orders import TENANT_PATTERN

clients = typer.Typer(help="API clients: create, list, rotate, revoke.", no_args_is_help=True)
T = TypeVar("T")


def with_clients(action: Callable[[ClientRepository], Awaitable[T]]) -> T:
    async def run() -> T:
        settings = get_settings()
        client = db.connect(settings)
        try:
            return await action(ClientRepository(client[settings.mongo_database]))
        finally:
            await client.close()

    return asyncio.run(run())


def describe(client: Client) -> dict[str, object]:
    return {
        "client_id": client.client_id,
        "tenant": client.tenant,
        "scopes": " ".join(sorted(client.scopes)),
        "created_at": client.created_at.isoformat(),
        "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None,
    }


def check_tenant(tenant: str) -> str:
    if not re.fullmatch(TENANT_PATTERN, tenant) or not 3 <= len(tenant) <= 16:
        raise typer.BadParameter("3 to 16 lowercase letters and digits, starting with a letter")
    return tenant


@clients.command("create")
def create(
    tenant: Annotated[str, typer.Option(callback=check_tenant, help="The tenant the client acts for")],
    scopes: Annotated[str, typer.Option(help=f"Space-separated; known: {' '.join(SCOPES)}")] = " ".join(SCOPES),
) -> None:
    """Create a client; prints its client_id and client_secret (the secret is shown this once)."""
    try:
        client, secret = with_clients(lambda repository: repository.create(tenant, set(scopes.split())))
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--scopes") from None
    typer.echo(json.dumps({**describe(client), "client_secret": secret}))


@clients.command("list")
def list_clients() -> None:
    """One JSON object per client (never its secret)."""
    for client in with_clients(lambda repository: repository.list()):
        typer.echo(json.dumps(describe(client)))


@clients.command("rotate")
def rotate(client_id: str) -> None:
    """A new secret for the client (shown this once); tokens issued before are refused within
    INVOICE_CLIENT_CHECK_SECONDS."""
    secret = with_clients(lambda repository: repository.rotate(client_id))
    if secret is None:
        typer.echo(f"no active client {client_id}", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps({"client_id": client_id, "client_secret": secret}))


@clients.command("revoke")
def revoke(client_id: str) -> None:
    """No new tokens for the client; the API refuses those already issued within INVOICE_CLIENT_CHECK_SECONDS."""
    if not with_clients(lambda repository: repository.revoke(client_id)):
        typer.echo(f"no client {client_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {client_id}")


@clients.command("demo")
def demo(
    tenant: Annotated[str, typer.Option(callback=check_tenant)] = "demo",
    credentials_file: Annotated[Path, typer.Option(help="Where the demo credentials are kept")] = Path(
        ".local/demo-client.json"
    ),
) -> None:
    """For `make run`: a client of the demo tenant, made on first start and kept in an ignored file,
    and the commands that get a token and create a job with it."""
    saved = json.loads(credentials_file.read_text()) if credentials_file.exists() else None

    async def ensure(repository: ClientRepository) -> dict[str, str]:
        if saved is not None:
            existing = await repository.find(saved["client_id"])
            if existing is not None and existing.active:
                return dict(saved)
        client, secret = await repository.create(tenant, set(SCOPES))
        return {"client_id": client.client_id, "client_secret": secret, "tenant": tenant}

    credentials = with_clients(ensure)
    if credentials != saved:
        credentials_file.parent.mkdir(parents=True, exist_ok=True)
        credentials_file.write_text(json.dumps(credentials))
        os.chmod(credentials_file, 0o600)
    settings = get_settings()
    base = f"http://{settings.api_host}:{settings.api_port}"
    client_env = f"INVOICE_CLIENT_ID={credentials['client_id']} INVOICE_CLIENT_SECRET={credentials['client_secret']}"
    typer.echo(
        f"""Demo client of tenant {credentials["tenant"]} (kept in {credentials_file}):
  client_id:     {credentials["client_id"]}
  client_secret: {credentials["client_secret"]}
In another terminal, once the API is up:
  export {client_env}
  .venv/bin/invoice-service jobs create --orders demo-1001,demo-1002,demo-1003,demo-1004,demo-1005 --watch
  .venv/bin/invoice-service invoices list
  .venv/bin/invoice-service invoices get INV-000001 --pdf invoice.pdf     # then open invoice.pdf
  # the JSON printed has links.pdf: a signed link that opens the PDF in a browser for 15 minutes
Or with curl: get a token and create a job:
  TOKEN=$(curl -s {base}/oauth/token -d grant_type=client_credentials \\
      -d client_id={credentials["client_id"]} -d client_secret={credentials["client_secret"]} \\
      -d 'scope={" ".join(SCOPES)}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s -X POST {base}/invoice/{credentials["tenant"]}/jobs/invoices -H "Authorization: Bearer $TOKEN" \\
      -H 'Content-Type: application/json' -d '{{"jobType": "MANUAL", "orderIds": ["demo-1001"]}}'
"""
    )
