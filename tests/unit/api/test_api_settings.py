"""Tenant settings over the fakes: every concern's 404 before it is set, its clear 400s (nothing stored),
the scopes, and the logo's refusals."""

import httpx
import pytest

from infra.clients import SCOPE_MANAGE, SCOPE_READ
from invoicing.logo import MAX_LOGO_BYTES
from tests.api_fakes import FakeApi

SELLER = {
    "legalName": "Müller & Söhne GmbH",
    "address": {"street": "Hauptstraße 1", "zipCode": "10115", "city": "Berlin", "country": "DE"},
    "vatId": "DE123456789",
    "bank": {"accountHolder": "Müller & Söhne GmbH", "iban": "DE89 3704 0044 0532 0130 00"},
    "language": "de",
    "locale": "de_DE",
}


# A seller without a VAT ID: its tax number, and its register entry to identify it in e-invoices (BT-30).
REGISTERED_SELLER = {
    **{name: value for name, value in SELLER.items() if name not in ("vatId", "bank")},
    "taxNumber": "27/123/45678",
    "legalRegistrationId": "HRB 12345 B, Amtsgericht Charlottenburg",
}

CONCERNS = ["invoice", "sequence", "credit-note-sequence", "seller", "einvoice"]


@pytest.mark.parametrize("concern", CONCERNS)
async def test_settings_never_set_are_404_naming_the_put(api: httpx.AsyncClient, tenant: str, concern: str) -> None:
    response = await api.get(f"/invoice/{tenant}/settings/{concern}")
    assert response.status_code == 404, response.text
    assert response.json()["message"].startswith(f"Tenant {tenant} has no {concern} settings")


async def test_settings_round_trip_per_tenant(api: httpx.AsyncClient) -> None:
    assert (await api.put("/invoice/shop/settings/seller", json=SELLER)).status_code == 200
    assert (await api.get("/invoice/shop/settings/seller")).json()["legalName"] == SELLER["legalName"]
    assert (await api.get("/invoice/other/settings/seller")).status_code == 404


async def test_reading_needs_the_read_scope_and_replacing_the_manage_scope(fake: FakeApi) -> None:
    read_only, manage_only = fake.token(scopes=frozenset({SCOPE_READ})), fake.token(scopes=frozenset({SCOPE_MANAGE}))
    url = "/invoice/shop/settings/seller"
    refused = fake.http.put(url, json=SELLER, headers=read_only)
    assert refused.status_code == 403
    assert SCOPE_MANAGE in refused.json()["message"]
    assert fake.http.put(url, json=SELLER, headers=manage_only).status_code == 200
    assert fake.http.get(url, headers=manage_only).status_code == 403
    assert fake.http.get(url, headers=read_only).status_code == 200
    assert fake.http.delete("/invoice/shop/settings/logo", headers=read_only).status_code == 403


async def test_no_logo_is_404_to_read_and_to_delete(api: httpx.AsyncClient) -> None:
    assert (await api.get("/invoice/shop/settings/logo")).status_code == 404
    assert (await api.delete("/invoice/shop/settings/logo")).status_code == 404


@pytest.mark.parametrize(
    ("concern", "body", "expected"),
    [
        ("invoice", {"threshold": "tomorrow", "status": "CREATED"}, 'threshold: must be a number of hours, e.g. "24"'),
        ("invoice", {"threshold": 24, "status": "CREATED,PAID"}, "status: unknown order status PAID"),
        ("invoice", {"threshold": 24}, "status: Field required"),
        ("sequence", {"preText": "INV", "numberOfDigits": 4, "startValue": 1, "maxValue": 9}, "placeholder __num__"),
        ("sequence", {"preText": "I__num__", "numberOfDigits": 4, "startValue": 9, "maxValue": 1}, "must not be below"),
        ("seller", {**SELLER, "vatId": None}, "vatId or taxNumber"),
        ("seller", {**SELLER, "locale": "klingon"}, "not a known locale"),
        (
            "seller",
            {**SELLER, "bank": {"accountHolder": "X", "iban": "DE00123"}},
            "bank.iban: 'DE00123' is not a valid",
        ),
        ("seller", {**SELLER, "colour": "red"}, "colour: Extra inputs are not permitted"),
        ("seller", [], "must be a JSON object"),
    ],
)
async def test_bad_settings_are_400_saying_what_is_wrong(
    api: httpx.AsyncClient, tenant: str, concern: str, body: object, expected: str
) -> None:
    response = await api.put(f"/invoice/{tenant}/settings/{concern}", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "400"
    assert expected in response.json()["message"]
    assert (await api.get(f"/invoice/{tenant}/settings/{concern}")).status_code == 404  # nothing stored


@pytest.mark.parametrize(
    ("content", "status", "expected"),
    [
        (b"%PDF-1.7 this is no image", 400, "not a readable PNG or JPEG"),
        (b"", 400, "empty"),
        (b"\x89PNG" + b"\0" * MAX_LOGO_BYTES, 413, f"larger than {MAX_LOGO_BYTES} bytes"),
    ],
)
async def test_a_file_that_is_not_a_usable_logo_is_refused(
    api: httpx.AsyncClient, tenant: str, content: bytes, status: int, expected: str
) -> None:
    url = f"/invoice/{tenant}/settings/logo"
    response = await api.put(url, content=content, headers={"Content-Type": "image/png"})
    assert response.status_code == status, response.text
    assert expected in response.json()["message"]
    assert (await api.get(url)).status_code == 404
