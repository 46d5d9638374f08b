"""Signed-link routes answer a malformed signature or an unknown key id 403 with an ErrorResponse,
before touching any store (nothing listens on port 1 here)."""

import pytest
from pydantic import SecretStr

from bootstrap.api import build_api
from infra.settings import Settings
from tests.support import api_client

NOWHERE = Settings(
    environment="local",
    link_signing_key=SecretStr("k" * 32),
    kafka_bootstrap_servers="127.0.0.1:1",
    mongo_url=SecretStr("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500"),
    storage="local",
)
PATHS = ["/invoice/demo/invoices/X/pdf", "/invoice/demo/credit-notes/X/pdf", "/invoice/demo/invoices/X/xml"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "query",
    [
        "expires=9999999999&signature=%C3%A9",  # non-ASCII: hmac.compare_digest raised TypeError (500)
        "expires=9999999999&signature=" + "0" * 200,  # too long: was a validation error
        "expires=9999999999&signature=" + "0" * 64 + "&kid=nope",  # an unknown key id
    ],
)
async def test_a_malformed_link_is_403(path: str, query: str) -> None:
    app = build_api(NOWHERE)
    async with api_client(app, NOWHERE, authorised=False) as client:
        response = await client.get(f"{path}?{query}")
    assert response.status_code == 403, response.text
    assert "invalid" in response.json()["message"]
