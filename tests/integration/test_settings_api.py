"""Tenant settings over the API, stored in the real MongoDB: round trips (the 400s and 404s are tested over
the fakes in tests/unit/api/test_api_settings.py)."""

import io
from typing import Any

import httpx
import pytest
from PIL import Image

pytestmark = pytest.mark.integration

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


def png(size: tuple[int, int] = (120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 80, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("concern", "sent", "answered"),
    [
        (
            "invoice",
            {"threshold": 24, "status": "CREATED,CONFIRMED", "extendedOrderStatus": "70,75,76"},
            {"threshold": "24", "status": "CREATED,CONFIRMED", "extendedOrderStatus": "70,75,76"},
        ),
        (
            "sequence",
            {"preText": "INV__num__", "numberOfDigits": 4, "startValue": 1000, "maxValue": 999999999},
            {"preText": "INV__num__", "numberOfDigits": 4, "startValue": 1000, "maxValue": 999999999},
        ),
        (
            "seller",
            SELLER,
            {**SELLER, "bank": {**SELLER["bank"], "iban": "DE89370400440532013000"}, "paymentTermsDays": 14},  # type: ignore[dict-item]
        ),
        ("seller", REGISTERED_SELLER, {**REGISTERED_SELLER, "paymentTermsDays": 14}),
    ],
)
async def test_settings_round_trip(
    api: httpx.AsyncClient, tenant: str, concern: str, sent: dict[str, Any], answered: dict[str, Any]
) -> None:
    url = f"/invoice/{tenant}/settings/{concern}"
    missing = await api.get(url)
    assert missing.status_code == 404
    assert f"has no {concern} settings" in missing.json()["message"]

    put = await api.put(url, json=sent)
    assert put.status_code == 200, put.text
    assert put.json() == answered
    assert (await api.get(url)).json() == answered
    assert (await api.get(f"/invoice/other{tenant[:8]}/settings/{concern}")).status_code == 404


async def test_logo_put_get_delete(api: httpx.AsyncClient, tenant: str) -> None:
    url = f"/invoice/{tenant}/settings/logo"
    assert (await api.get(url)).status_code == 404
    image = png()
    # The declared type is not trusted: the content decides.
    put = await api.put(url, content=image, headers={"Content-Type": "application/octet-stream"})
    assert put.status_code == 200, put.text
    assert put.json()["mediaType"] == "image/png"
    assert (put.json()["width"], put.json()["height"], put.json()["size"]) == (120, 40, len(image))

    got = await api.get(url)
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/png"
    assert got.content == image

    assert (await api.delete(url)).status_code == 204
    assert (await api.get(url)).status_code == 404
    assert (await api.delete(url)).status_code == 404
