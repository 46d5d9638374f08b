"""Who is calling: the bearer token, checked for signature, expiry, its client's revocation, tenant and scope.

401 (with WWW-Authenticate) when the token is missing or not valid; 403 when it is valid but for
another tenant or without the scope the operation needs. Path operations declare their scope with
`dependencies=[ManageScope]` or `[ReadScope]`, which also puts it into the OpenAPI document.
"""

import asyncio
from typing import Annotated

from fastapi import Depends, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2, SecurityScopes
from fastapi.security.utils import get_authorization_scheme_param

from infra.clients import SCOPE_MANAGE, SCOPE_READ, SCOPES, Client, ClientLookup, secret_matches, unknown_client_hash
from infra.tokens import AccessClaims, InvalidToken
from service.dependencies import ClientChecks, Tenant, Tokens, is_tenant
from service.errors import ApiError
from service.login_limits import LoginBackoff

oauth2 = OAuth2(
    flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl="/oauth/token", scopes=SCOPES)),
    scheme_name="OAuth2",
    description="OAuth2 client credentials: POST /oauth/token with client_id, client_secret and scope.",
    auto_error=False,
)


def unauthorized(reason: str, error: str | None = "invalid_token") -> ApiError:
    challenge = 'Bearer realm="invoice"' + (f', error="{error}", error_description="{reason}"' if error else "")
    return ApiError(401, f"Unauthorized: {reason}", headers={"WWW-Authenticate": challenge})


async def authorized(
    security_scopes: SecurityScopes,
    tenant: Tenant,
    tokens: Tokens,
    client_checks: ClientChecks,
    authorization: Annotated[str | None, Depends(oauth2)],
) -> AccessClaims:
    scheme, token = get_authorization_scheme_param(authorization)
    if not authorization:
        raise unauthorized("an access token is required (Authorization: Bearer <token>)", error=None)
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("the Authorization header must be 'Bearer <token>'", error="invalid_request")
    try:
        claims = await tokens.verify(token)
    except InvalidToken as invalid:
        raise unauthorized(str(invalid)) from None
    if claims.issued_here:
        client = await client_checks.find(claims.client_id)
        # A revoked or rotated client's tokens are refused once the cache has seen it (within
        # client_check_seconds); an ID with no client record is the tests' and benchmarks' signed
        # token, or a client removed from the store by hand: revoke clients, don't delete them.
        if client is not None and not client.honours_token(claims.tenant, claims.issued_at):
            raise unauthorized("the token's client has been revoked or its secret rotated")
    if claims.tenant != tenant or not is_tenant(tenant):
        raise ApiError(403, f"Forbidden: the token is not valid for tenant {tenant}")
    missing = [scope for scope in security_scopes.scopes if scope not in claims.scopes]
    if missing:
        raise ApiError(403, f"Forbidden: the token lacks the scope {' '.join(missing)}")
    return claims


# --- the client credentials of POST /oauth/token (service/routes/oauth.py) --------------------------

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status, self.error, self.description, self.headers = status, error, description, headers or {}

    def response(self) -> JSONResponse:
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers={**NO_STORE, **self.headers})


def invalid_client(description: str = "client authentication failed") -> OAuthError:
    return OAuthError(401, "invalid_client", description, {"WWW-Authenticate": 'Basic realm="invoice"'})


async def authenticate(
    backoff: LoginBackoff, clients: ClientLookup, client_id: str, secret: str, address: str
) -> Client:
    # Only a (client, address) pair that has failed again and again waits, and its attempts are not
    # verified meanwhile (service/login_limits.py says why); every other caller is verified at once.
    wait = await backoff.retry_after(client_id, address)
    if wait is not None:
        raise OAuthError(
            429, "invalid_client", f"too many failed attempts; try again in {wait} s", {"Retry-After": str(wait)}
        )
    client = await clients.find(client_id)
    # The hash is checked even for an unknown client, so the answer's timing does not tell which IDs exist.
    stored_hash = client.secret_hash if client else unknown_client_hash()
    matches = await asyncio.to_thread(secret_matches, secret, stored_hash)
    if client is None or not matches or not client.active:
        await backoff.record_failure(client_id, address)
        raise invalid_client()
    return client


ManageScope = Security(authorized, scopes=[SCOPE_MANAGE])
ReadScope = Security(authorized, scopes=[SCOPE_READ])
