"""Jobs over the fakes: every bad request is a 4xx ErrorResponse that says what is wrong (none is a 5xx);
the filters and pages of the job list."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from infra.clients import SCOPE_MANAGE, SCOPE_READ
from infra.kafka import KafkaUnavailable
from schemas.api import JobType
from tests.api_fakes import FakeApi, fake_settings

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


# --- the rules of one job and of creating one --------------------------------------------------------


async def test_an_unknown_or_another_tenants_job_is_404(api: httpx.AsyncClient, fake: FakeApi) -> None:
    await fake.jobs.create(tenant="other", job_id="j-1", job_type=JobType.MANUAL, order_ids=["a"])
    for job_id in ("j-1", "nope"):
        response = await api.get(URL.format(tenant="shop") + f"/{job_id}")
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "404"


async def test_a_created_job_is_published_and_can_be_read(api: httpx.AsyncClient, fake: FakeApi) -> None:
    response = await api.post(URL.format(tenant="shop"), json={"jobType": "MANUAL", "orderIds": ["a", "b"]})
    assert response.status_code == 201, response.text
    job_id = response.json()["jobId"]
    assert [key for _, key, _ in fake.publisher.published] == [f"shop:{job_id}"]
    read = await api.get(URL.format(tenant="shop") + f"/{job_id}")
    assert read.status_code == 200
    assert read.json()["jobStatus"] == "IN_PROGRESS"


async def test_kafka_down_is_503_and_leaves_no_job(api: httpx.AsyncClient, fake: FakeApi) -> None:
    fake.publisher.failing = KafkaUnavailable("no broker")
    response = await api.post(URL.format(tenant="shop"), json={"jobType": "MANUAL", "orderIds": ["a"]})
    assert response.status_code == 503, response.text
    assert fake.jobs.jobs == {}


@pytest.mark.parametrize(
    ("headers", "status"),
    [({"Authorization": ""}, 401), ({"Authorization": "Basic abc"}, 401), ({"Authorization": "Bearer junk"}, 401)],
)
async def test_a_missing_or_bad_token_is_401(api: httpx.AsyncClient, headers: dict[str, str], status: int) -> None:
    for response in (
        await api.get(URL.format(tenant="shop"), headers=headers),
        await api.post(URL.format(tenant="shop"), json={"jobType": "MANUAL", "orderIds": ["a"]}, headers=headers),
    ):
        assert response.status_code == status, response.text
        assert "WWW-Authenticate" in response.headers


async def test_a_read_only_token_cannot_create_a_job(api: httpx.AsyncClient, fake: FakeApi) -> None:
    headers = fake.token(scopes=frozenset({SCOPE_READ}))
    response = await api.post(URL.format(tenant="shop"), json={"jobType": "MANUAL", "orderIds": ["a"]}, headers=headers)
    assert response.status_code == 403
    assert SCOPE_MANAGE in response.json()["message"]
    assert (await api.get(URL.format(tenant="shop"), headers=headers)).status_code == 200


async def test_the_job_quota_is_429_with_retry_after() -> None:
    fake = FakeApi.build(fake_settings(quota_jobs_per_minute=1))
    body = {"jobType": "MANUAL", "orderIds": ["a"]}
    assert fake.http.post(URL.format(tenant="shop"), json=body, headers=fake.token()).status_code == 201
    refused = fake.http.post(URL.format(tenant="shop"), json=body, headers=fake.token())
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0


# --- the job list: filters and pages ----------------------------------------------------------------


async def test_jobs_are_filtered_by_type_status_and_creation(api: httpx.AsyncClient, fake: FakeApi) -> None:
    await fake.jobs.create(tenant="shop", job_id="m-1", job_type=JobType.MANUAL, order_ids=["a"])
    await fake.jobs.create(tenant="shop", job_id="a-1", job_type=JobType.AUTOMATIC, order_ids=[])
    await fake.jobs.create(tenant="other", job_id="o-1", job_type=JobType.MANUAL, order_ids=["a"])

    async def listed(**params: str) -> list[str]:
        response = await api.get(URL.format(tenant="shop"), params=params)
        assert response.status_code == 200, response.text
        return sorted(item["jobId"] for item in response.json()["items"])

    assert await listed() == ["a-1", "m-1"]
    assert await listed(jobType="MANUAL") == ["m-1"]
    assert await listed(jobType="AUTOMATIC") == ["a-1"]
    assert await listed(status="IN_PROGRESS") == ["a-1", "m-1"]
    assert await listed(status="DONE") == []
    hour = timedelta(hours=1)
    assert await listed(createdFrom=(datetime.now(UTC) + hour).isoformat()) == []
    assert await listed(createdTo=(datetime.now(UTC) - hour).isoformat()) == []
    assert await listed(createdFrom=(datetime.now(UTC) - hour).isoformat()) == ["a-1", "m-1"]


async def test_jobs_come_in_pages_by_cursor(api: httpx.AsyncClient, fake: FakeApi) -> None:
    for i in range(3):
        await fake.jobs.create(tenant="shop", job_id=f"j-{i}", job_type=JobType.MANUAL, order_ids=["a"])
    seen: list[str] = []
    params: dict[str, str] = {"limit": "2"}
    while True:
        page = (await api.get(URL.format(tenant="shop"), params=params)).json()
        seen += [item["jobId"] for item in page["items"]]
        if not page.get("nextCursor"):
            break
        params["cursor"] = page["nextCursor"]
    assert sorted(seen) == ["j-0", "j-1", "j-2"]
    assert len(seen) == 3


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"cursor": "not a cursor!"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"status": "LOST"}, "status"),
        ({"jobType": "WEEKLY"}, "jobType"),
        ({"createdFrom": "2026-01-01T00:00:00"}, "createdFrom"),  # no offset
    ],
)
async def test_bad_job_list_parameters_are_400_naming_the_parameter(
    api: httpx.AsyncClient, params: dict[str, str], named: str
) -> None:
    response = await api.get(URL.format(tenant="shop"), params=params)
    assert response.status_code == 400, response.text
    assert named in response.json()["message"]
