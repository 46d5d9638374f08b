"""Access control with the real MongoDB and Kafka: the token endpoint, every endpoint against every kind
of token, the login backoff and the job quota across replicas, revocation, an external issuer's JWKS,
the clients CLI, and no secret in the logs."""

import base64
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from bootstrap.api import build_api
from infra.clients import SCOPE_MANAGE, SCOPE_READ, ClientRepository
from infra.settings import Settings
from tests.support import ROOT, api_client

pytestmark = pytest.mark.integration

BOTH = f"{SCOPE_MANAGE} {SCOPE_READ}"


@pytest.fixture
async def raw_api(settings: Settings, s3_bucket: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API without the tests' automatic tokens: each request carries what the test gives it."""
    async with api_client(build_api(settings), settings, authorised=False) as client:
        yield client


@pytest.fixture
def clients(mongo_db: Any) -> ClientRepository:
    return ClientRepository(mongo_db)


async def get_token(api: httpx.AsyncClient, client_id: str, secret: str, scope: str | None = None) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if scope is not None:
        form["scope"] = scope
    return await api.post("/oauth/token", data=form)


async def test_token_endpoint_answers_the_contract_tutorials_shape(
    raw_api: httpx.AsyncClient, clients: ClientRepository, tenant: str
) -> None:
    client, secret = await clients.create(tenant, {SCOPE_MANAGE, SCOPE_READ})
    response = await get_token(raw_api, client.client_id, secret, SCOPE_READ)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "refresh_token",
        "refresh_token_expires_in",
        "session_idle_time",
        "token_type",
        "access_token",
        "expires_in",
        "scope",
    }
    assert (body["refresh_token"], body["refresh_token_expires_in"], body["token_type"]) == ("", 0, "Bearer")
    assert body["scope"] == SCOPE_READ
    assert body["expires_in"] > 0 and body["session_idle_time"] > 0
    assert response.headers["cache-control"] == "no-store"

    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    with_basic = await raw_api.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert with_basic.status_code == 200, with_basic.text
    assert with_basic.json()["scope"] == BOTH  # no scope asked for: all the client is allowed


@asynccontextmanager
async def replica(settings: Settings, clock: Callable[[], datetime]) -> AsyncIterator[FastAPI]:
    """One API process of several over the same store, its quotas and backoff on `clock`."""
    app = build_api(settings)
    async with app.router.lifespan_context(app):
        resources = app.state.resources
        resources.clock = resources.login_backoff.clock = clock
        yield app


def calling_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_failures_slow_one_client_and_address_on_every_replica_and_no_one_else(
    settings: Settings, s3_bucket: str, clients: ClientRepository, tenant: str
) -> None:
    client, secret = await clients.create(tenant, {SCOPE_READ})
    now = datetime.now(UTC)
    async with (
        replica(settings, lambda: now) as first,
        replica(settings, lambda: now) as second,
        calling_from(first, "198.51.100.1") as guesser,
        calling_from(second, "198.51.100.1") as same_guesser_elsewhere,
        calling_from(second, "198.51.100.2") as owner,
    ):
        for _ in range(settings.login_free_failures):
            assert (await get_token(guesser, client.client_id, "guess")).status_code == 401
        # The other replica counts the same failures (the store), so the pair waits there too,
        # unverified, even with the right secret (the trade-off of service/login_limits.py).
        blocked = await get_token(same_guesser_elsewhere, client.client_id, secret)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        assert (await get_token(owner, client.client_id, secret)).status_code == 200


async def test_a_revoked_clients_tokens_are_refused(
    settings: Settings, s3_bucket: str, clients: ClientRepository, tenant: str
) -> None:
    checked_at_once = settings.model_copy(update={"client_check_seconds": 0.0})
    client, secret = await clients.create(tenant, {SCOPE_READ})
    async with api_client(build_api(checked_at_once), checked_at_once, authorised=False) as api:
        headers = bearer((await get_token(api, client.client_id, secret)).json()["access_token"])
        assert (await api.get(f"/invoice/{tenant}/jobs/invoices/no-such-job", headers=headers)).status_code == 404
        assert await clients.revoke(client.client_id)
        refused = await api.get(f"/invoice/{tenant}/jobs/invoices/no-such-job", headers=headers)
        assert refused.status_code == 401, refused.text
        assert "revoked" in refused.json()["message"]


async def test_a_rotated_secret_ends_the_old_secret_and_its_tokens(
    settings: Settings, s3_bucket: str, clients: ClientRepository, tenant: str
) -> None:
    checked_at_once = settings.model_copy(update={"client_check_seconds": 0.0})
    client, secret = await clients.create(tenant, {SCOPE_READ})
    path = f"/invoice/{tenant}/jobs/invoices/no-such-job"
    async with api_client(build_api(checked_at_once), checked_at_once, authorised=False) as api:
        old_token = bearer((await get_token(api, client.client_id, secret)).json()["access_token"])
        new_secret = await clients.rotate(client.client_id)
        assert new_secret is not None and new_secret != secret
        assert (await get_token(api, client.client_id, secret)).status_code == 401
        new_token = bearer((await get_token(api, client.client_id, new_secret)).json()["access_token"])
        assert (await api.get(path, headers=old_token)).status_code == 401
        assert (await api.get(path, headers=new_token)).status_code == 404
    assert await clients.revoke(client.client_id)
    assert await clients.rotate(client.client_id) is None  # a revoked client stays revoked


async def test_the_job_quota_holds_across_replicas(settings: Settings, s3_bucket: str, tenant: str) -> None:
    limited = settings.model_copy(update={"quota_jobs_per_minute": 2})
    now = datetime.now(UTC)
    headers = bearer(signed(limited, tenant, BOTH))
    body = {"jobType": "MANUAL", "orderIds": ["o-1"]}
    path = f"/invoice/{tenant}/jobs/invoices"
    async with (
        replica(limited, lambda: now) as first,
        replica(limited, lambda: now) as second,
        calling_from(first, "127.0.0.1") as one,
        calling_from(second, "127.0.0.1") as other,
    ):
        assert (await one.post(path, json=body, headers=headers)).status_code == 201
        assert (await other.post(path, json=body, headers=headers)).status_code == 201
        refused = await one.post(path, json=body, headers=headers)
        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["code"] == "429"


async def test_revoked_client_gets_no_new_token(
    raw_api: httpx.AsyncClient, clients: ClientRepository, tenant: str
) -> None:
    client, secret = await clients.create(tenant, {SCOPE_READ})
    assert (await get_token(raw_api, client.client_id, secret)).status_code == 200
    assert await clients.revoke(client.client_id)
    refused = await get_token(raw_api, client.client_id, secret)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


# --- every endpoint against every kind of token ------------------------------------------------------

ENDPOINTS = [
    ("POST", "/invoice/{tenant}/jobs/invoices", {"jobType": "MANUAL", "orderIds": ["o-1"]}, SCOPE_MANAGE, 201),
    ("GET", "/invoice/{tenant}/jobs/invoices/no-such-job", None, SCOPE_READ, 404),
    ("GET", "/invoice/{tenant}/settings/invoice", None, SCOPE_READ, 404),
    ("PUT", "/invoice/{tenant}/settings/invoice", {"threshold": 1, "status": "COMPLETED"}, SCOPE_MANAGE, 200),
    ("GET", "/invoice/{tenant}/settings/sequence", None, SCOPE_READ, 404),
    (
        "PUT",
        "/invoice/{tenant}/settings/sequence",
        {"preText": "I__num__", "numberOfDigits": 3, "startValue": 1, "maxValue": 9},
        SCOPE_MANAGE,
        200,
    ),
    ("GET", "/invoice/{tenant}/settings/seller", None, SCOPE_READ, 404),
    ("PUT", "/invoice/{tenant}/settings/seller", {"legalName": "X"}, SCOPE_MANAGE, 400),
    ("GET", "/invoice/{tenant}/settings/logo", None, SCOPE_READ, 404),
    ("PUT", "/invoice/{tenant}/settings/logo", None, SCOPE_MANAGE, 400),
    ("DELETE", "/invoice/{tenant}/settings/logo", None, SCOPE_MANAGE, 404),
    ("POST", "/invoice/{tenant}/invoices/INV-1/email", None, SCOPE_MANAGE, 404),
    ("GET", "/invoice/{tenant}/invoices", None, SCOPE_READ, 200),
    ("GET", "/invoice/{tenant}/invoices/INV-1", None, SCOPE_READ, 404),
    ("GET", "/invoice/{tenant}/jobs/invoices", None, SCOPE_READ, 200),
    ("POST", "/invoice/{tenant}/invoices/INV-1/credit-notes", {"reason": "r", "wholeInvoice": True}, SCOPE_MANAGE, 404),
    ("GET", "/invoice/{tenant}/credit-notes/no-such-note", None, SCOPE_READ, 404),
    ("GET", "/invoice/{tenant}/settings/credit-note-sequence", None, SCOPE_READ, 404),
    (
        "PUT",
        "/invoice/{tenant}/settings/credit-note-sequence",
        {"preText": "C__num__", "numberOfDigits": 3, "startValue": 1, "maxValue": 9},
        SCOPE_MANAGE,
        200,
    ),
]


def signed(settings: Settings, tenant: str, scopes: str, *, key: str | None = None, expired: bool = False) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "ic-test",
        "tenant": tenant,
        "scope": scopes,
        "iat": now - timedelta(hours=2),
        "exp": now - timedelta(minutes=1) if expired else now + timedelta(hours=1),
    }
    assert settings.jwt_signing_key is not None
    secret = key or settings.jwt_signing_key.get_secret_value()
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": settings.jwt_key_id})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_cases(settings: Settings, tenant: str, scope: str) -> list[tuple[str, dict[str, str], int | None]]:
    """(case, headers, expected status); None: the endpoint's own answer with a good token."""
    other_scope = SCOPE_READ if scope == SCOPE_MANAGE else SCOPE_MANAGE
    return [
        ("no token", {}, 401),
        ("not bearer", {"Authorization": "Basic abc"}, 401),
        ("garbage", bearer("garbage"), 401),
        ("another key", bearer(signed(settings, tenant, BOTH, key="another-signing-key-" + "z" * 32)), 401),
        ("expired", bearer(signed(settings, tenant, BOTH, expired=True)), 401),
        ("another tenant", bearer(signed(settings, "othertenant", BOTH)), 403),
        ("without the scope", bearer(signed(settings, tenant, other_scope)), 403),
        ("good", bearer(signed(settings, tenant, scope)), None),
    ]


@pytest.mark.parametrize(("method", "path", "body", "scope", "good_status"), ENDPOINTS)
async def test_every_endpoint_checks_the_token(
    raw_api: httpx.AsyncClient,
    settings: Settings,
    tenant: str,
    method: str,
    path: str,
    body: Any,
    scope: str,
    good_status: int,
) -> None:
    url = path.format(tenant=tenant)
    for case, headers, expected in token_cases(settings, tenant, scope):
        response = await raw_api.request(method, url, json=body, headers=headers)
        assert response.status_code == (expected or good_status), f"{case}: {response.text}"
        if expected == 401:
            assert response.headers["www-authenticate"].startswith("Bearer"), case
        if expected is not None:
            assert response.json()["code"] == str(expected), case


async def test_health_and_token_endpoint_need_no_token(raw_api: httpx.AsyncClient) -> None:
    assert (await raw_api.get("/health")).status_code == 200
    assert (await raw_api.post("/oauth/token", data={"grant_type": "client_credentials"})).status_code == 401


async def test_another_tenants_job_is_404_from_the_callers_own_path(
    raw_api: httpx.AsyncClient, settings: Settings, tenant: str
) -> None:
    theirs = {"Authorization": f"Bearer {signed(settings, 'othertenant', BOTH)}"}
    created = await raw_api.post(
        "/invoice/othertenant/jobs/invoices", json={"jobType": "MANUAL", "orderIds": ["o"]}, headers=theirs
    )
    assert created.status_code == 201
    mine = {"Authorization": f"Bearer {signed(settings, tenant, BOTH)}"}
    response = await raw_api.get(f"/invoice/{tenant}/jobs/invoices/{created.json()['jobId']}", headers=mine)
    assert response.status_code == 404


# --- a deployment behind another issuer ---------------------------------------------------------------


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    """A real HTTP server publishing one RSA public key as a JWKS, as an OIDC issuer does."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "issuer-key-1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json", key
    server.shutdown()


async def test_tokens_of_an_external_issuer_are_checked_against_its_jwks(
    settings: Settings, s3_bucket: str, tenant: str, jwks_server: tuple[str, rsa.RSAPrivateKey]
) -> None:
    url, issuer_key = jwks_server
    external = settings.model_copy(
        update={
            "jwt_jwks_url": url,
            "jwt_external_issuer": "https://login.example.com",
            "jwt_external_audience": "api://invoices",
        }
    )
    now = datetime.now(UTC)
    claims = {
        "iss": "https://login.example.com",
        "aud": "api://invoices",
        "sub": "erp-client",
        "tenant": tenant,
        "scope": SCOPE_READ,
        "exp": now + timedelta(minutes=5),
    }
    good = jwt.encode(claims, issuer_key, algorithm="RS256", headers={"kid": "issuer-key-1"})
    impostor_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    impostor = jwt.encode(claims, impostor_key, algorithm="RS256", headers={"kid": "issuer-key-1"})
    ours = {**claims, "aud": external.jwt_audience}  # this service's audience is not the external tokens'
    other_audience = jwt.encode(ours, issuer_key, algorithm="RS256", headers={"kid": "issuer-key-1"})
    async with api_client(build_api(external), external, authorised=False) as api:
        path = f"/invoice/{tenant}/settings/invoice"
        assert (await api.get(path, headers={"Authorization": f"Bearer {good}"})).status_code == 404
        assert (await api.get(path, headers={"Authorization": f"Bearer {impostor}"})).status_code == 401
        assert (await api.get(path, headers={"Authorization": f"Bearer {other_audience}"})).status_code == 401


# --- the clients CLI, and the logs of a whole flow -------------------------------------------------------


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cli", "clients", *args]
    return subprocess.run(command, env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_clients_cli_creates_lists_and_revokes(service_env: dict[str, str], tenant: str) -> None:
    created = cli(service_env, "create", "--tenant", tenant, "--scopes", SCOPE_READ)
    assert created.returncode == 0, created.stderr
    client = json.loads(created.stdout)
    assert client["tenant"] == tenant and client["scopes"] == SCOPE_READ and len(client["client_secret"]) >= 32

    listed = [json.loads(line) for line in cli(service_env, "list").stdout.splitlines()]
    mine = next(entry for entry in listed if entry["client_id"] == client["client_id"])
    assert "client_secret" not in mine and client["client_secret"] not in json.dumps(listed)

    rotated = cli(service_env, "rotate", client["client_id"])
    assert rotated.returncode == 0, rotated.stderr
    assert json.loads(rotated.stdout)["client_secret"] not in (client["client_secret"], "")
    assert cli(service_env, "revoke", client["client_id"]).returncode == 0
    assert cli(service_env, "rotate", client["client_id"]).returncode == 1
    assert cli(service_env, "revoke", "ic-no-such-client").returncode == 1
    refused = cli(service_env, "create", "--tenant", tenant, "--scopes", "invoice.everything")
    assert refused.returncode == 2 and "unknown scopes" in refused.stderr


async def test_no_secret_or_token_reaches_the_logs(
    raw_api: httpx.AsyncClient, clients: ClientRepository, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, secret = await clients.create(tenant, {SCOPE_MANAGE, SCOPE_READ})
    await get_token(raw_api, client.client_id, "a wrong secret")
    token = (await get_token(raw_api, client.client_id, secret)).json()["access_token"]
    headers = bearer(token)
    job = await raw_api.post(
        f"/invoice/{tenant}/jobs/invoices", json={"jobType": "MANUAL", "orderIds": ["o"]}, headers=headers
    )
    assert job.status_code == 201
    assert (await raw_api.get(f"/invoice/{tenant}/jobs/invoices/{job.json()['jobId']}", headers=headers)).is_success
    tampered = await raw_api.get(f"/invoice/{tenant}/jobs/invoices/x", headers=bearer(token[:-2]))
    assert tampered.status_code == 401

    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert caplog.records, "nothing was logged: the search below would prove nothing"
    for secret_text in (secret, token, token.split(".")[2], "a wrong secret"):
        assert secret_text not in logged
