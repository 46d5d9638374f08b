"""POST /oauth/token over the fakes: RFC 6749's errors, a revoked client, and the token it issues; the
login backoff and the token checks are in tests/unit/test_trust_limits.py."""

from typing import Any

import pytest

from infra.clients import SCOPE_READ
from tests.api_fakes import SECRET, FakeApi


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "client_credentials", "secret": "wrong"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "ic-unknown", "secret": "x"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "secret": None}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "scope": "invoice.invoice_manage"}, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "invoice.everything"}, 400, "invalid_scope"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({}, 400, "invalid_request"),
    ],
)
def test_token_endpoint_errors_follow_rfc_6749(fake: FakeApi, form: dict[str, Any], status: int, error: str) -> None:
    client = fake.clients.add("ic-reader", scopes=frozenset({SCOPE_READ}))
    data = {"client_id": client.client_id, "client_secret": SECRET, **form}
    if "secret" in form:
        data.pop("secret")
        if form["secret"] is None:
            data.pop("client_secret")
        else:
            data["client_secret"] = form["secret"]
    response = fake.http.post("/oauth/token", data=data)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic")


def test_a_body_that_is_not_a_form_is_invalid_request(fake: FakeApi) -> None:
    response = fake.http.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_revoked_client_gets_no_token(fake: FakeApi) -> None:
    fake.clients.add("ic-1")
    form = {"grant_type": "client_credentials", "client_id": "ic-1", "client_secret": SECRET}
    assert fake.http.post("/oauth/token", data=form).status_code == 200
    fake.clients.revoke("ic-1", fake.clock())
    refused = fake.http.post("/oauth/token", data=form)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_the_token_issued_opens_the_clients_tenant_with_its_scopes_only(fake: FakeApi) -> None:
    fake.clients.add("ic-1", scopes=frozenset({SCOPE_READ}))
    form = {"grant_type": "client_credentials", "client_id": "ic-1", "client_secret": SECRET}
    token = fake.http.post("/oauth/token", data=form).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert fake.http.get("/invoice/shop/jobs/invoices", headers=headers).status_code == 200
    assert fake.http.get("/invoice/othertenant/jobs/invoices", headers=headers).status_code == 403
    job = {"jobType": "MANUAL", "orderIds": ["a"]}
    assert fake.http.post("/invoice/shop/jobs/invoices", json=job, headers=headers).status_code == 403
