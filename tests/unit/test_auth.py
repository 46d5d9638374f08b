"""Client secrets and access tokens: the pure parts of access control (the login backoff, revocation and
external tokens: test_trust_limits.py)."""

import logging
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import SecretStr

from infra.clients import SCOPE_MANAGE, SCOPE_READ, hash_secret, secret_matches
from infra.settings import Settings
from infra.tokens import InvalidToken, TokenService

KEY, OLD_KEY, NEW_KEY = "unit-test-key-" + "k" * 32, "old-key-" + "o" * 32, "new-key-" + "n" * 32
SETTINGS = Settings(jwt_signing_key=SecretStr(KEY), jwt_key_id="k2")


def test_secret_hash_is_salted_and_checks_only_the_right_secret() -> None:
    first, second = hash_secret("s3cret"), hash_secret("s3cret")
    assert first != second  # salted
    assert "s3cret" not in first
    assert secret_matches("s3cret", first) and secret_matches("s3cret", second)
    assert not secret_matches("s3cret!", first)
    assert not secret_matches("s3cret", "not-a-hash")


async def test_issued_token_carries_tenant_scopes_and_expiry() -> None:
    tokens = TokenService(SETTINGS)
    token, expires_in = tokens.issue(client_id="ic-1", tenant="shop", scopes=frozenset({SCOPE_READ}))
    assert expires_in == SETTINGS.access_token_ttl_seconds
    assert jwt.get_unverified_header(token)["kid"] == "k2"
    claims = await tokens.verify(token)
    assert (claims.client_id, claims.tenant, claims.scopes) == ("ic-1", "shop", frozenset({SCOPE_READ}))
    assert claims.expires_at > datetime.now(UTC)


async def test_tokens_of_a_previous_key_are_accepted_after_rotation() -> None:
    old = TokenService(Settings(jwt_signing_key=SecretStr(OLD_KEY), jwt_key_id="k1"))
    token, _ = old.issue(client_id="ic-1", tenant="shop", scopes=frozenset({SCOPE_MANAGE}))
    rotated = TokenService(
        Settings(jwt_signing_key=SecretStr(NEW_KEY), jwt_key_id="k2", jwt_previous_keys={"k1": OLD_KEY})
    )
    assert (await rotated.verify(token)).tenant == "shop"
    with pytest.raises(InvalidToken, match="not signed with a key this service knows"):
        await TokenService(Settings(jwt_signing_key=SecretStr(NEW_KEY), jwt_key_id="k2")).verify(token)


def forged(**changes: object) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": "invoice-service",
        "aud": "invoice-api",
        "sub": "ic-1",
        "tenant": "shop",
        "exp": now + timedelta(hours=1),
    }
    claims.update(changes)
    key = str(claims.pop("key", KEY))
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": "k2"})


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (forged(exp=datetime.now(UTC) - timedelta(seconds=1)), "expired"),
        (forged(key="another-key-" + "x" * 32), "Signature verification failed"),
        (forged(aud="someone-else"), "Audience"),
        (forged(iss="someone-else"), "issuer"),
        (forged(tenant=None), "names no tenant"),
        ("not.a.token", "not valid"),
        ("garbage", "not valid"),
    ],
)
async def test_bad_tokens_are_refused_with_the_reason(token: str, reason: str) -> None:
    with pytest.raises(InvalidToken, match=reason):
        await TokenService(SETTINGS).verify(token)


def test_openapi_declares_the_client_credentials_scheme_and_each_operations_scope() -> None:
    from bootstrap.api import build_api

    document = build_api(SETTINGS).openapi()
    flow = document["components"]["securitySchemes"]["OAuth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token"
    assert set(flow["scopes"]) == {SCOPE_MANAGE, SCOPE_READ}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not path.startswith("/invoice/") or path.endswith("/pdf"):  # a download link is its own credential
                assert "security" not in operation, f"{method} {path}"
                continue
            expected = SCOPE_READ if method == "get" else SCOPE_MANAGE
            assert operation["security"] == [{"OAuth2": [expected]}], f"{method} {path}"


def test_access_logs_keep_no_download_signature() -> None:
    from infra.logs import RedactSignatures

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s"',
        ("127.0.0.1", "GET", "/x/pdf?expires=1&signature=abc123"),
        None,
    )
    RedactSignatures().filter(record)
    assert "abc123" not in record.getMessage()
    assert "expires=1&signature=[redacted]" in record.getMessage()
