"""Who is calling: the bearer token, checked for signature, expiry, its client's revocation, tenant and scope.

401 (with WWW-Authenticate) when the token is missing or not valid; 403 when it is valid but for
another tenant or without the scope the operation needs. Path operations declare their scope with
`dependencies=[ManageScope]` or `[ReadScope]`, which also puts it into the OpenAPI document.
"""

from typing import Annotated

from fastapi import Depends, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes
from fastapi.security.utils import get_authorization_scheme_param

from infra.clients import SCOPE_MANAGE, SCOPE_READ, SCOPES
from infra.tokens import AccessClaims, InvalidToken
from service.dependencies import Resources, Tenant, is_tenant
from service.errors import ApiError

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
    res: Resources,
    authorization: Annotated[str | None, Depends(oauth2)],
) -> AccessClaims:
    scheme, token = get_authorization_scheme_param(authorization)
    if not authorization:
        raise unauthorized("an access token is required (Authorization: Bearer <token>)", error=None)
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("the Authorization header must be 'Bearer <token>'", error="invalid_request")
    try:
        claims = await res.tokens.verify(token)
    except InvalidToken as invalid:
        raise unauthorized(str(invalid)) from None
    if claims.issued_here:
        client = await res.client_checks.find(claims.client_id)
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


ManageScope = Security(authorized, scopes=[SCOPE_MANAGE])
ReadScope = Security(authorized, scopes=[SCOPE_READ])
