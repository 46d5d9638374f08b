"""Webhook endpoints over the fakes: registration and its 400s (URL rules, event types), the secret shown
once, update, delete, rotation, the delivery log and replay, scopes and tenants."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from infra.clients import SCOPE_READ
from invoicing.webhooks import Delivery, webhook_headers
from tests.api_fakes import FakeApi, fake_settings
from tests.support import TenantTokens

URL = "https://erp.example/hooks"
BODY = {"url": URL, "eventTypes": ["invoice.issued", "credit_note.issued"]}


async def create(api: httpx.AsyncClient, tenant: str, **changes: object) -> dict[str, object]:
    response = await api.post(f"/invoice/{tenant}/webhooks", json={**BODY, **changes})
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def test_an_endpoint_is_registered_and_its_secret_shown_once(api: httpx.AsyncClient, tenant: str) -> None:
    created = await create(api, tenant)
    secret = str(created["secret"])
    assert secret.startswith("whsec_") and created["enabled"] is True
    assert created["eventTypes"] == ["credit_note.issued", "invoice.issued"]
    endpoint_id = created["id"]
    read = (await api.get(f"/invoice/{tenant}/webhooks/{endpoint_id}")).json()
    listed = (await api.get(f"/invoice/{tenant}/webhooks")).json()["items"]
    assert "secret" not in read and [item["id"] for item in listed] == [endpoint_id]
    assert secret not in str(listed) and secret not in str(read)
    assert (await api.get(f"/invoice/other/webhooks/{endpoint_id}")).status_code in (403, 404)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"url": "http://erp.example/hooks"}, "must be https"),
        ({"url": "https://10.0.0.1/hooks"}, "10.0.0.1, which is private"),
        ({"url": "https://127.0.0.1/hooks"}, "loopback"),
        ({"url": "https://[::ffff:169.254.169.254]/"}, "metadata"),
        ({"url": "https://[fd00:ec2::254]/"}, "metadata"),
        ({"url": "https://db.internal.example/hooks"}, "10.1.2.3, which is private"),
        ({"url": "https://u:p@erp.example/"}, "user name or password"),
        ({"eventTypes": ["invoice.shredded"]}, "unknown event types invoice.shredded"),
        ({"eventTypes": []}, "eventTypes"),
        ({"color": "red"}, "color"),
    ],
)
async def test_bad_registrations_are_400_naming_why(
    api: httpx.AsyncClient, tenant: str, body: dict[str, object], words: str
) -> None:
    response = await api.post(f"/invoice/{tenant}/webhooks", json={**BODY, **body})
    assert response.status_code == 400, response.text
    assert words in response.text


async def test_private_addresses_and_http_when_the_settings_allow_them() -> None:
    fake = FakeApi.build(fake_settings(webhooks_allow_http=True, webhooks_allow_private_addresses=True))
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", auth=TenantTokens(fake.settings)) as api:
        await create(api, "shop", url="http://127.0.0.1:8080/hook")


async def test_update_delete_and_unknown_endpoints(api: httpx.AsyncClient, tenant: str) -> None:
    endpoint_id = (await create(api, tenant))["id"]
    base = f"/invoice/{tenant}/webhooks/{endpoint_id}"
    changed = await api.patch(base, json={"enabled": False, "eventTypes": ["job.completed"]})
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    assert changed.json()["eventTypes"] == ["job.completed"]
    assert (await api.patch(base, json={"url": "https://10.0.0.1/"})).status_code == 400
    assert (await api.delete(base)).status_code == 204
    assert (await api.get(base)).status_code == 404
    assert (await api.delete(base)).status_code == 404
    assert (await api.post(f"{base}/rotate-secret")).status_code == 404


async def test_rotation_gives_a_new_secret_and_both_sign_during_the_overlap(
    api: httpx.AsyncClient, fake: FakeApi, tenant: str
) -> None:
    created = await create(api, tenant)
    base = f"/invoice/{tenant}/webhooks/{created['id']}"
    rotated = (await api.post(f"{base}/rotate-secret")).json()
    assert rotated["secret"] != created["secret"]
    endpoint = await fake.resources.webhooks.endpoint(tenant, str(created["id"]))  # type: ignore[union-attr]
    assert endpoint is not None
    now = fake.clock()
    signing = endpoint.signing_secrets(now)
    assert signing == (rotated["secret"], created["secret"])
    old_secret, new_secret = str(created["secret"]), str(rotated["secret"])
    assert endpoint.signing_secrets(now + timedelta(hours=24)) == (rotated["secret"],)
    assert (await api.get(base)).json()["secretRotationEndsAt"] is not None
    wall = datetime.now(UTC)
    headers = webhook_headers(endpoint.signing_secrets(now), "msg_1", wall, b"{}")
    Webhook(old_secret).verify(b"{}", headers)
    Webhook(new_secret).verify(b"{}", headers)


async def test_the_delivery_log_and_a_replay(api: httpx.AsyncClient, fake: FakeApi, tenant: str) -> None:
    endpoint_id = str((await create(api, tenant))["id"])
    store = fake.resources.webhooks
    assert store is not None
    now = fake.clock()
    delivery = Delivery("msg_x", tenant, endpoint_id, "ce-1", "invoice.issued", "{}", now, now)
    failed = delivery.failed(now, 500, "HTTP 500", "boom", schedule=())
    await store.add_delivery(failed)
    base = f"/invoice/{tenant}/webhooks/{endpoint_id}/deliveries"
    [item] = (await api.get(base)).json()["items"]
    assert (item["id"], item["eventId"], item["state"], item["attempts"], item["lastStatusCode"]) == (
        "msg_x", "ce-1", "failed", 1, 500
    )  # fmt: skip
    assert item["nextAttemptAt"] is None
    replayed = await api.post(f"{base}/msg_x/replay")
    assert replayed.status_code == 202 and replayed.json()["state"] == "pending"
    assert replayed.json()["nextAttemptAt"] is not None
    assert (await api.post(f"{base}/msg_nope/replay")).status_code == 404
    await api.patch(f"/invoice/{tenant}/webhooks/{endpoint_id}", json={"enabled": False})
    assert (await api.post(f"{base}/msg_x/replay")).status_code == 409
    assert (await api.get(f"/invoice/{tenant}/webhooks/ep_nope/deliveries")).status_code == 404


async def test_changing_needs_the_manage_scope(fake: FakeApi, tenant: str) -> None:
    read_only = fake.token(scopes=frozenset({SCOPE_READ}))
    assert fake.http.post(f"/invoice/{tenant}/webhooks", json=BODY, headers=read_only).status_code == 403
    assert fake.http.get(f"/invoice/{tenant}/webhooks", headers=read_only).status_code == 200
    assert fake.http.get(f"/invoice/{tenant}/webhooks").status_code == 401


async def test_at_most_the_settings_number_of_endpoints(api: httpx.AsyncClient, fake: FakeApi, tenant: str) -> None:
    for _ in range(fake.settings.webhooks_max_endpoints):
        await create(api, tenant)
    assert (await api.post(f"/invoice/{tenant}/webhooks", json=BODY)).status_code == 409
