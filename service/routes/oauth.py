"""POST /oauth/token: the OAuth2 client-credentials grant (RFC 6749 section 4.4), answered in the shape
of the contract's authorization tutorial. Errors are RFC 6749's own JSON (`error`,
`error_description`), not ErrorResponse: OAuth2 clients expect them."""

import base64
import binascii
from urllib.parse import parse_qsl, unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from infra.clients import Client, unknown_scopes
from service.auth import NO_STORE, OAuthError, authenticate, invalid_client
from service.dependencies import AppSettings, Backoff, Clients, Tokens

router = APIRouter(tags=["Authorization (extension)"])
MAX_FORM_BYTES = 4096


async def read_form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise OAuthError(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError(400, "invalid_request", f"the body is larger than {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise OAuthError(400, "invalid_request", "the body is not a valid form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise OAuthError(400, "invalid_request", f"the parameter {name} is given more than once")
        form[name] = value
    return form


def client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """From HTTP Basic (RFC 6749 2.3.1) or from the form, as the contract's tutorial sends them."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise invalid_client("the Basic credentials are malformed") from None
        return unquote(client_id), unquote(secret)
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if not client_id or not secret:
        raise invalid_client("client_id and client_secret are required")
    return client_id, secret


def granted_scopes(client: Client, requested: str | None) -> frozenset[str]:
    """The requested scopes, all of which the client must be allowed; none requested means all allowed."""
    if requested is None or not requested.strip():
        return client.scopes
    scopes = set(requested.split())
    if unknown := unknown_scopes(scopes):
        raise OAuthError(400, "invalid_scope", f"unknown scope {' '.join(sorted(unknown))}")
    if beyond := scopes - client.scopes:
        raise OAuthError(400, "invalid_scope", f"the client is not allowed the scope {' '.join(sorted(beyond))}")
    return frozenset(scopes)


@router.post(
    "/oauth/token",
    operation_id="POST-oauth-token",
    summary="Getting an access token (OAuth2 client credentials)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "client_id": {"type": "string"},
                            "client_secret": {"type": "string"},
                            "scope": {"type": "string", "description": "Space-separated scopes"},
                        },
                    }
                }
            },
        }
    },
)
async def token(
    request: Request, settings: AppSettings, tokens: Tokens, backoff: Backoff, clients: Clients
) -> JSONResponse:
    try:
        form = await read_form(request)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "grant_type is required")
        if grant_type != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
        client_id, secret = client_credentials(request, form)
        # The peer's address, or the one a trusted proxy forwarded (ProxyHeadersMiddleware, service/app.py).
        address = request.client.host if request.client else "unknown"
        client = await authenticate(backoff, clients, client_id, secret, address)
        scopes = granted_scopes(client, form.get("scope"))
    except OAuthError as error:
        return error.response()
    access_token, expires_in = tokens.issue(client_id=client.client_id, tenant=client.tenant, scopes=scopes)
    body = {
        "refresh_token": "",
        "refresh_token_expires_in": 0,
        "session_idle_time": settings.token_session_idle_seconds,
        "token_type": "Bearer",
        "access_token": access_token,
        "expires_in": expires_in,
        "scope": " ".join(sorted(scopes)),
    }
    return JSONResponse(body, headers=NO_STORE)
