"""A site's own settings over the fakes: the same resources as the tenant's under
/invoice/{tenant}/sites/{siteCode}/settings/..., with the same bodies, scopes and 4xx, a 400 for a site
code that cannot be one, and the tenant's settings untouched by the site's."""

import io

import httpx
import pytest
from PIL import Image

from infra.clients import SCOPE_MANAGE, SCOPE_READ
from tests.api_fakes import FakeApi
from tests.unit.api.test_api_settings import SELLER

CONCERNS = ["invoice", "sequence", "credit-note-sequence", "seller", "einvoice"]
FRENCH_SELLER = {
    **SELLER,
    "legalName": "Müller France SAS",
    "address": {"street": "1 rue de Rivoli", "zipCode": "75001", "city": "Paris", "country": "FR"},
    "vatId": "FR40303265045",
    "language": "fr",
    "locale": "fr_FR",
}
BODIES = {
    "invoice": {"threshold": "24", "status": "COMPLETED"},
    "sequence": {"preText": "FR-__num__", "numberOfDigits": 4, "startValue": 1, "maxValue": 9999},
    "credit-note-sequence": {"preText": "AV-__num__", "numberOfDigits": 4, "startValue": 1, "maxValue": 9999},
    "seller": FRENCH_SELLER,
    "einvoice": {"profile": "EN16931", "sellerElectronicAddress": {"value": "FR40303265045", "scheme": "9957"}},
}


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("concern", CONCERNS)
async def test_a_site_setting_never_set_is_404_naming_the_site(
    api: httpx.AsyncClient, tenant: str, concern: str
) -> None:
    await api.put(f"/invoice/{tenant}/settings/{concern}", json=BODIES[concern])  # the tenant's is no site's
    response = await api.get(f"/invoice/{tenant}/sites/fr/settings/{concern}")
    assert response.status_code == 404, response.text
    assert response.json()["message"].startswith(f"Site fr of tenant {tenant} has no {concern} settings")


@pytest.mark.parametrize("concern", CONCERNS)
async def test_a_site_setting_round_trips_beside_the_tenants(api: httpx.AsyncClient, tenant: str, concern: str) -> None:
    put = await api.put(f"/invoice/{tenant}/sites/fr/settings/{concern}", json=BODIES[concern])
    assert put.status_code == 200, put.text
    got = await api.get(f"/invoice/{tenant}/sites/fr/settings/{concern}")
    assert got.status_code == 200 and got.json() == put.json()
    assert (await api.get(f"/invoice/{tenant}/settings/{concern}")).status_code == 404
    assert (await api.get(f"/invoice/{tenant}/sites/at/settings/{concern}")).status_code == 404


@pytest.mark.parametrize(
    ("concern", "body", "expected"),
    [
        ("invoice", {"threshold": "tomorrow", "status": "CREATED"}, 'threshold: must be a number of hours, e.g. "24"'),
        ("sequence", {"preText": "INV", "numberOfDigits": 4, "startValue": 1, "maxValue": 9}, "placeholder __num__"),
        ("seller", {**FRENCH_SELLER, "vatId": None}, "vatId or taxNumber"),
        ("seller", {**FRENCH_SELLER, "language": "xx"}, "not a language with a catalog"),
        ("invoice", {"threshold": "1", "status": "COMPLETED", "schedule": "0 2 * * *"}, "the tenant's"),
    ],
)
async def test_bad_site_settings_are_400_like_the_tenants(
    api: httpx.AsyncClient, tenant: str, concern: str, body: object, expected: str
) -> None:
    response = await api.put(f"/invoice/{tenant}/sites/fr/settings/{concern}", json=body)
    assert response.status_code == 400, response.text
    assert expected in response.json()["message"]
    assert (await api.get(f"/invoice/{tenant}/sites/fr/settings/{concern}")).status_code == 404


@pytest.mark.parametrize("site", ["a:b", "x" * 65, "-fr", "f%20r", "fr%C3%A9"])
async def test_a_site_code_that_cannot_be_one_is_400(api: httpx.AsyncClient, tenant: str, site: str) -> None:
    for response in (
        await api.put(f"/invoice/{tenant}/sites/{site}/settings/seller", json=FRENCH_SELLER),
        await api.get(f"/invoice/{tenant}/sites/{site}/settings/seller"),
        await api.get(f"/invoice/{tenant}/sites/{site}/settings/logo"),
    ):
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "400"
        assert "siteCode" in response.text


async def test_site_settings_need_the_same_scopes_and_the_tokens_tenant(fake: FakeApi) -> None:
    read_only, manage_only = fake.token(scopes=frozenset({SCOPE_READ})), fake.token(scopes=frozenset({SCOPE_MANAGE}))
    url = "/invoice/shop/sites/fr/settings/seller"
    assert fake.http.put(url, json=FRENCH_SELLER, headers=read_only).status_code == 403
    assert fake.http.put(url, json=FRENCH_SELLER, headers=manage_only).status_code == 200
    assert fake.http.get(url, headers=manage_only).status_code == 403
    assert fake.http.get(url, headers=read_only).status_code == 200
    assert fake.http.delete("/invoice/shop/sites/fr/settings/logo", headers=read_only).status_code == 403
    # A token of the tenant "shop" writes no other tenant's sites.
    other = fake.http.put("/invoice/other/sites/fr/settings/seller", json=FRENCH_SELLER, headers=manage_only)
    assert other.status_code == 403, other.text
    assert "not valid for tenant other" in other.json()["message"]
    assert fake.http.put(url, json=FRENCH_SELLER).status_code == 401


async def test_a_sites_logo_is_its_own_and_deleting_it_leaves_the_tenants(api: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "image/png"}
    assert (await api.put("/invoice/shop/settings/logo", content=png(), headers=headers)).status_code == 200
    assert (await api.get("/invoice/shop/sites/fr/settings/logo")).status_code == 404
    put = await api.put("/invoice/shop/sites/fr/settings/logo", content=png(), headers=headers)
    assert put.status_code == 200, put.text
    got = await api.get("/invoice/shop/sites/fr/settings/logo")
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert (await api.delete("/invoice/shop/sites/fr/settings/logo")).status_code == 204
    assert (await api.delete("/invoice/shop/sites/fr/settings/logo")).status_code == 404
    assert (await api.get("/invoice/shop/settings/logo")).status_code == 200
    refused = await api.put("/invoice/shop/sites/fr/settings/logo", content=b"no image", headers=headers)
    assert refused.status_code == 400
