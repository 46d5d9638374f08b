"""The HTTP side of the human CLI: a client of the running API, authorised by a client's ID and secret
(the OAuth2 client-credentials grant, as any other client of the API does it)."""

import base64
import json
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_API_URL = "http://127.0.0.1:8000"


class ApiFailed(Exception):
    """The API answered an error; the message is its own (ErrorResponse or OAuth2 error)."""


@dataclass
class Credentials:
    api_url: str
    client_id: str
    client_secret: str
    tenant: str | None = None  # None: the tenant of the client (from its token)


class InvoiceApi:
    def __init__(self, credentials: Credentials, http: httpx.Client | None = None) -> None:
        self.http = http or httpx.Client(base_url=credentials.api_url.rstrip("/"), timeout=30)
        token = self._token(credentials)
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.tenant = credentials.tenant or _tenant_of(token)

    def _token(self, credentials: Credentials) -> str:
        try:
            response = self.http.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": credentials.client_id,
                    "client_secret": credentials.client_secret,
                },
            )
        except httpx.TransportError as error:
            raise ApiFailed(f"cannot reach the API at {credentials.api_url}: {error}") from None
        if response.status_code != 200:
            body = _json(response)
            reason = body.get("error_description") or body.get("error") or response.text
            raise ApiFailed(f"no token for client {credentials.client_id}: {reason}")
        token: str = response.json()["access_token"]
        return token

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """JSON of a 2xx answer to /invoice/{tenant}{path}; ApiFailed with the API's message otherwise."""
        try:
            response = self.http.request(method, f"/invoice/{self.tenant}{path}", **kwargs)
        except httpx.TransportError as error:
            raise ApiFailed(f"cannot reach the API: {error}") from None
        if response.is_success:
            return response.json()
        body = _json(response)
        detail = f" ({body['detailInfo']})" if body.get("detailInfo") and response.status_code != 400 else ""
        raise ApiFailed(f"{response.status_code}: {body.get('message', response.text)}{detail}")

    def download(self, url: str) -> bytes:
        """A signed download link: it carries its own authorisation, so no token is sent with it."""
        response = httpx.get(url, timeout=60)
        if not response.is_success:
            raise ApiFailed(f"{response.status_code}: {_json(response).get('message', response.text)}")
        return response.content

    def close(self) -> None:
        self.http.close()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _tenant_of(token: str) -> str:
    """The tenant claim of our own token (read, not verified: the API verifies it on every request)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    tenant = claims.get("tenant")
    if not isinstance(tenant, str):
        raise ApiFailed("the token names no tenant: pass --tenant")
    return tenant
