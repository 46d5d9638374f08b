"""Jobs over the fakes: every bad request is a 4xx ErrorResponse that says what is wrong (none is a 5xx);
the filters and pages of the job list."""

from collections.abc import AsyncIterator

import httpx
import pytest

URL = "/invoice/{tenant}/jobs/invoices"


@pytest.mark.parametrize(
    ("tenant", "body", "expected"),
    [
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


@pytest.mark.parametrize("tenant", ["Shop", "1shop", "ab", "a" * 17, "null%2Cnull", "shop%00"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_tenant_that_cannot_be_the_tokens_is_forbidden(
    api: httpx.AsyncClient, tenant: str, method: str
) -> None:
    # The test client signs a token for whatever the path names, so even a token that claims this
    # tenant is refused: no valid token can name it. (The contract documents 403, not 400, for GET.)
    url = URL.format(tenant=tenant) + ("/some-job" if method == "GET" else "")
    response = await api.request(method, url, json={"jobType": "MANUAL", "orderIds": ["a"]})
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "403"
    assert "not valid for tenant" in response.json()["message"]


async def test_a_bad_tenant_without_a_token_is_unauthorized(api: httpx.AsyncClient) -> None:
    response = await api.get(URL.format(tenant="null%2Cnull") + "/x", headers={"Authorization": ""})
    assert response.status_code == 401, response.text


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


MAX_BODY = 2 * 1024 * 1024  # the default of INVOICE_MAX_REQUEST_BODY_BYTES


async def test_a_body_over_the_limit_is_413(api: httpx.AsyncClient, tenant: str) -> None:
    body = {"jobType": "MANUAL", "orderIds": ["o" * 64] * 40_000}  # ~2.7 MB, declared in Content-Length
    response = await api.post(URL.format(tenant=tenant), json=body)
    assert response.status_code == 413, response.text
    assert response.json() == {
        "message": f"Request body too large: at most {MAX_BODY} bytes are accepted",
        "code": "413",
    }


async def test_a_chunked_body_over_the_limit_is_413(api: httpx.AsyncClient, tenant: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit counts what arrives
        yield b'{"jobType": "MANUAL", "orderIds": ['
        for _ in range(50):
            yield b'"' + b"o" * 64 * 1024 + b'",'
        yield b'"last"]}'

    response = await api.post(URL.format(tenant=tenant), content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "413"


@pytest.mark.parametrize(
    "order_id_json",
    [
        rb'"a\u0000b"',  # NUL: FerretDB on PostgreSQL cannot store it (was a 500)
        rb'"a\ud800b"',  # a lone surrogate: not UTF-8 (was a 500)
        rb'"line\nbreak"',
    ],
)
async def test_an_order_id_with_a_control_character_or_lone_surrogate_is_400(
    api: httpx.AsyncClient, tenant: str, order_id_json: bytes
) -> None:
    body = b'{"jobType": "MANUAL", "orderIds": ["ok", ' + order_id_json + b"]}"
    response = await api.post(URL.format(tenant=tenant), content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["message"].endswith("orderIds[1] holds a control character or a lone surrogate")


async def test_order_ids_too_large_for_one_job_event_are_400_not_503(api: httpx.AsyncClient, tenant: str) -> None:
    # Of 2-byte characters, 10,000 IDs of 64 characters would make a job event over Kafka's 1 MB.
    order_ids = [f"{i:06d}-" + "é" * 57 for i in range(10_000)]
    response = await api.post(URL.format(tenant=tenant), json={"jobType": "MANUAL", "orderIds": order_ids})
    assert response.status_code == 400, response.text
    assert "at most 900000 per job" in response.json()["message"]
