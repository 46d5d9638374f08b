"""Every bad request is a 400 ErrorResponse that says what is wrong; none is a 5xx."""

import httpx
import pytest

pytestmark = pytest.mark.integration

URL = "/invoice/{tenant}/jobs/invoices"


@pytest.mark.parametrize(
    ("tenant", "body", "expected"),
    [
        ("Shop", {"jobType": "MANUAL", "orderIds": ["a"]}, "tenant"),
        ("1shop", {"jobType": "MANUAL", "orderIds": ["a"]}, "tenant"),
        ("ab", {"jobType": "MANUAL", "orderIds": ["a"]}, "tenant"),
        ("a" * 17, {"jobType": "MANUAL", "orderIds": ["a"]}, "tenant"),
        ("shop", {"orderIds": ["a"]}, "jobType"),
        ("shop", {"jobType": "WEEKLY", "orderIds": ["a"]}, "jobType"),
        ("shop", {"jobType": "MANUAL"}, "orderIds is required"),
        ("shop", {"jobType": "MANUAL", "orderIds": []}, "orderIds is required"),
        ("shop", {"jobType": "MANUAL", "orderIds": [""]}, "orderIds[0] is empty"),
        ("shop", {"jobType": "MANUAL", "orderIds": ["x" * 65]}, "longer than 64"),
        ("shop", {"jobType": "MANUAL", "orderIds": [f"o{i}" for i in range(10_001)]}, "at most 10000"),
        ("shop", {"jobType": "MANUAL", "orderIds": [1, 2]}, "orderIds.0"),
        ("shop", {"jobType": "MANUAL", "orderIds": "a"}, "orderIds"),
        ("shop", {"jobType": "AUTOMATIC", "orderIds": ["a"]}, "must not be given for an AUTOMATIC job"),
        ("shop", {"jobType": "AUTOMATIC"}, "invoice settings"),
        ("shop", [], "must be a JSON object"),
    ],
)
async def test_bad_job_requests(api: httpx.AsyncClient, tenant: str, body: object, expected: str) -> None:
    response = await api.post(URL.format(tenant=tenant), json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "400"
    assert expected in error["message"]


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (b'{"jobType": "MANUAL", "orderIds": ["a"]', "application/json", "not valid JSON"),
        (b"", "application/json", "missing"),
        (b"jobType=MANUAL", "text/plain", "request body"),
        (b"\xff\xfe", "application/json", "not valid JSON"),
    ],
)
async def test_body_that_is_not_json(api: httpx.AsyncClient, content: bytes, content_type: str, expected: str) -> None:
    response = await api.post(URL.format(tenant="shop"), content=content, headers={"Content-Type": content_type})
    assert response.status_code == 400, response.text
    assert expected in response.json()["message"]
    assert "Traceback" not in response.text


async def test_unknown_route_is_an_error_response(api: httpx.AsyncClient) -> None:
    response = await api.get("/invoice/shop/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "404"
