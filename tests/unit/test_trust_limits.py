"""Trust boundaries of the API on in-memory fakes: the login backoff per (client, address) behind a
trusted proxy, the unknown-client hash, revoked clients' tokens, external tokens' issuer and audience,
and the per-tenant quotas. The real store's side is in tests/integration (test_access_control.py and
test_store_contracts_*.py)."""

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

import infra.clients
from bootstrap.api import build_api
from infra.clients import (
    SCOPE_MANAGE,
    SCOPE_READ,
    CachedClients,
    hash_secret,
    parse_hash,
    unknown_client_hash,
)
from infra.settings import Settings
from infra.tokens import InvalidToken, TokenService
from service.login_limits import LoginBackoff
from tests.api_fakes import KEY, SECRET, Clock, FakeApi, MemoryClients, fake_settings
from tests.memory import MemoryWindowedCounters

PROXY, OTHER_PROXY = "10.0.0.5", "10.0.0.6"


def make_api(**overrides: Any) -> FakeApi:
    """The app over fakes (tests/api_fakes.py), behind the proxies 10.0.0.0/29."""
    return FakeApi.build(fake_settings(trusted_proxies=["10.0.0.0/29"], **overrides))


def token_request(http: TestClient, client_id: str, secret: str, forwarded_for: str | None = None) -> Any:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return http.post("/oauth/token", data=form, headers=headers)


# --- login limits ------------------------------------------------------------------------------------


def test_junk_from_other_addresses_behind_the_proxy_never_refuses_a_correct_secret() -> None:
    api = make_api()
    api.clients.add("ic-known")
    ingress = api.caller(PROXY)
    # Guessers behind the ingress: many addresses, the known client ID and unknown ones, far past
    # any limit per client or per address of the ingress.
    for attempt in range(40):
        guesser = f"198.51.100.{attempt % 20 + 1}"
        client_id = "ic-known" if attempt % 2 else f"ic-junk-{attempt}"
        assert token_request(ingress, client_id, "guess", forwarded_for=guesser).status_code in (401, 429)
    # The owner, behind the same ingress, and through a chain of two trusted proxies.
    owner = token_request(ingress, "ic-known", SECRET, forwarded_for="203.0.113.77")
    assert owner.status_code == 200, owner.text
    chained = token_request(ingress, "ic-known", SECRET, forwarded_for=f"203.0.113.78, {OTHER_PROXY}")
    assert chained.status_code == 200, chained.text


def test_failures_are_slowed_per_client_and_forwarded_address_only() -> None:
    api = make_api(login_free_failures=3)
    api.clients.add("ic-known")
    ingress = api.caller(PROXY)
    for _ in range(3):
        assert token_request(ingress, "ic-known", "guess", forwarded_for="198.51.100.9").status_code == 401
    blocked = token_request(ingress, "ic-known", "guess", forwarded_for="198.51.100.9")
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "1"
    assert blocked.json()["error"] == "invalid_client"
    # Another forwarded address is its own pair: verified, and the right secret passes.
    assert token_request(ingress, "ic-known", SECRET, forwarded_for="198.51.100.10").status_code == 200


def test_forwarded_addresses_of_an_untrusted_peer_are_not_believed() -> None:
    api = make_api(login_free_failures=3)
    api.clients.add("ic-known")
    outsider = api.caller("192.0.2.50")  # not a trusted proxy: its X-Forwarded-For is its own claim
    for attempt in range(3):
        spoofed = f"198.51.100.{attempt + 1}"
        assert token_request(outsider, "ic-known", "guess", forwarded_for=spoofed).status_code == 401
    refused = token_request(outsider, "ic-known", "guess", forwarded_for="198.51.100.99")
    assert refused.status_code == 429  # counted against its own address, whatever it forwards
    assert token_request(api.caller(PROXY), "ic-known", SECRET, forwarded_for="192.0.2.51").status_code == 200


async def test_the_backoff_doubles_up_to_its_maximum_and_ends() -> None:
    clock = Clock()
    backoff = LoginBackoff(
        MemoryWindowedCounters(),
        free_failures=2,
        max_delay=timedelta(seconds=5),
        window=timedelta(hours=1),
        clock=clock,
    )
    for _ in range(2):
        assert await backoff.retry_after("ic-1", "a") is None
        await backoff.record_failure("ic-1", "a")
    waits = []
    for _ in range(5):
        wait = await backoff.retry_after("ic-1", "a")
        assert wait is not None
        waits.append(wait)
        clock.advance(wait)
        assert await backoff.retry_after("ic-1", "a") is None  # waited: verified again
        await backoff.record_failure("ic-1", "a")
    assert waits == [1, 2, 4, 5, 5]
    assert await backoff.retry_after("ic-1", "b") is None  # another address
    assert await backoff.retry_after("ic-2", "a") is None  # another client


def test_an_unknown_client_id_is_checked_against_a_real_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    dummy, real = parse_hash(unknown_client_hash()), parse_hash(hash_secret("x"))
    assert dummy is not None and real is not None
    assert (dummy.n, dummy.r, dummy.p, len(dummy.salt), len(dummy.digest)) == (
        real.n,
        real.r,
        real.p,
        len(real.salt),
        len(real.digest),
    )
    unknown_client_hash()  # made once, before counting
    api = make_api()
    api.clients.add("ic-known")
    derived: list[int] = []
    scrypt = hashlib.scrypt

    def counting_scrypt(password: bytes, **params: Any) -> bytes:
        derived.append(params["n"])
        return scrypt(password, **params)

    monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)
    http = api.caller("192.0.2.1")
    assert token_request(http, "ic-no-such-client", "guess").status_code == 401
    assert token_request(http, "ic-known", "guess").status_code == 401
    # The same key derivation, at the same cost, for the unknown ID as for the known one.
    assert derived == [infra.clients.SCRYPT_N, infra.clients.SCRYPT_N]


# --- revocation -----------------------------------------------------------------------------------------


def test_a_revoked_clients_tokens_are_refused_within_the_check_interval() -> None:
    api = make_api()
    api.clients.add("ic-shop")
    http, headers = api.caller("192.0.2.1"), api.token("ic-shop")
    assert http.get("/invoice/shop/jobs/invoices/no-such-job", headers=headers).status_code == 404
    api.clients.revoke("ic-shop", api.clock.now)
    assert api.settings.client_check_seconds <= 60
    api.clock.advance(api.settings.client_check_seconds)
    refused = http.get("/invoice/shop/jobs/invoices/no-such-job", headers=headers)
    assert refused.status_code == 401, refused.text
    assert "revoked" in refused.json()["message"]
    assert refused.headers["www-authenticate"].startswith("Bearer")


def test_tokens_issued_before_a_secret_rotation_are_refused_within_the_check_interval() -> None:
    api = make_api()
    api.clients.add("ic-shop")
    http = api.caller("192.0.2.1")
    before = {"Authorization": f"Bearer {token_request(http, 'ic-shop', SECRET).json()['access_token']}"}
    assert http.get("/invoice/shop/jobs/invoices/no-such-job", headers=before).status_code == 404
    api.clients.rotate("ic-shop", "the-new-secret")
    assert token_request(http, "ic-shop", SECRET).status_code == 401  # the old secret gets no token
    after = {"Authorization": f"Bearer {token_request(http, 'ic-shop', 'the-new-secret').json()['access_token']}"}
    api.clock.advance(api.settings.client_check_seconds)
    refused = http.get("/invoice/shop/jobs/invoices/no-such-job", headers=before)
    assert refused.status_code == 401 and "rotated" in refused.json()["message"]
    assert http.get("/invoice/shop/jobs/invoices/no-such-job", headers=after).status_code == 404


async def test_the_client_cache_reads_the_store_once_per_interval() -> None:
    clients, clock = MemoryClients(), Clock()
    clients.add("ic-1")
    cached = CachedClients(clients, timedelta(seconds=60), clock=clock)
    assert (await cached.find("ic-1")) is not None
    clients.revoke("ic-1", clock.now)
    clock.advance(59)
    found = await cached.find("ic-1")
    assert found is not None and found.active  # still the cached record: the bound is the interval
    clock.advance(1)
    found = await cached.find("ic-1")
    assert found is not None and not found.active


# --- external tokens ----------------------------------------------------------------------------------------


def test_a_jwks_url_without_an_issuer_or_an_audience_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="jwt_jwks_url needs jwt_external_issuer"):
        Settings(jwt_jwks_url="https://login.example.com/jwks.json")
    with pytest.raises(ValidationError, match="jwt_external_audience"):
        Settings(jwt_jwks_url="https://login.example.com/jwks.json", jwt_external_issuer="https://login.example.com")


class OneKey:
    """PyJWKClient's one method the token service uses, over a key in memory."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key.public_key()

    def get_signing_key_from_jwt(self, token: str) -> Any:
        return self


async def test_external_tokens_must_carry_their_own_audience() -> None:
    settings = Settings(
        jwt_signing_key=SecretStr(KEY),
        jwt_jwks_url="https://login.example.com/jwks.json",
        jwt_external_issuer="https://login.example.com",
        jwt_external_audience="api://invoices",
    )
    issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tokens = TokenService(settings)
    tokens.external = cast(Any, OneKey(issuer_key))

    def external(audience: str) -> str:
        claims = {
            "iss": "https://login.example.com",
            "aud": audience,
            "sub": "erp",
            "tenant": "shop",
            "scope": SCOPE_READ,
            "exp": datetime.now(UTC) + timedelta(minutes=5),
        }
        return jwt.encode(claims, issuer_key, algorithm="RS256", headers={"kid": "issuer-key-1"})

    claims = await tokens.verify(external("api://invoices"))
    assert (claims.tenant, claims.issued_here) == ("shop", False)
    with pytest.raises(InvalidToken, match="Audience"):
        await tokens.verify(external(settings.jwt_audience))  # this service's own audience is not theirs


# --- tenant quotas ------------------------------------------------------------------------------------------


def test_job_creation_beyond_the_tenants_quota_is_429_with_retry_after() -> None:
    api = make_api(quota_jobs_per_minute=2)
    api.clients.add("ic-shop")
    api.clients.add("ic-other", tenant="other")
    http, body = api.caller("192.0.2.1"), {"jobType": "MANUAL", "orderIds": ["o-1"]}
    for _ in range(2):
        assert http.post("/invoice/shop/jobs/invoices", json=body, headers=api.token("ic-shop")).status_code == 201
    refused = http.post("/invoice/shop/jobs/invoices", json=body, headers=api.token("ic-shop"))
    assert refused.status_code == 429, refused.text
    assert refused.headers["retry-after"] == "50"  # the minute started 10 s ago
    assert refused.json()["code"] == "429" and "2 job creation requests per minute" in refused.json()["message"]
    other = http.post("/invoice/other/jobs/invoices", json=body, headers=api.token("ic-other", "other"))
    assert other.status_code == 201  # a tenant's quota is its own
    api.clock.advance(50)
    assert http.post("/invoice/shop/jobs/invoices", json=body, headers=api.token("ic-shop")).status_code == 201


def test_unauthorised_job_requests_use_no_quota() -> None:
    api = make_api(quota_jobs_per_minute=1)
    api.clients.add("ic-shop")
    http, body = api.caller("192.0.2.1"), {"jobType": "MANUAL", "orderIds": ["o-1"]}
    for _ in range(3):
        assert http.post("/invoice/shop/jobs/invoices", json=body).status_code == 401
    assert http.post("/invoice/shop/jobs/invoices", json=body, headers=api.token("ic-shop")).status_code == 201


def test_email_resends_beyond_the_quota_per_invoice_are_429() -> None:
    api = make_api(quota_resends_per_invoice_per_hour=3)
    api.clients.add("ic-shop")
    http, headers = api.caller("192.0.2.1"), api.token("ic-shop")
    for _ in range(3):
        assert http.post("/invoice/shop/invoices/INV/1/email", headers=headers).status_code == 404
    refused = http.post("/invoice/shop/invoices/INV/1/email", headers=headers)
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["retry-after"]) == 3600 - 10
    assert refused.json()["code"] == "429"
    assert http.post("/invoice/shop/invoices/INV/2/email", headers=headers).status_code == 404  # another invoice


def test_openapi_documents_the_quota_answers() -> None:
    document = build_api(Settings(jwt_signing_key=SecretStr(KEY))).openapi()
    for path in ("/invoice/{tenant}/jobs/invoices", "/invoice/{tenant}/invoices/{invoiceNumber}/email"):
        answer = document["paths"][path]["post"]["responses"]["429"]
        assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
        assert "Retry-After" in answer["headers"]
    assert SCOPE_MANAGE in document["components"]["securitySchemes"]["OAuth2"]["flows"]["clientCredentials"]["scopes"]
