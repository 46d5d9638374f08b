"""GET /invoice/{tenant}/invoices?siteCode=...: the invoices of one site's orders, combined with the other
filters, and a 400 for a site code that cannot be one."""

import httpx
import pytest

from tests.api_fakes import FakeApi
from tests.unit.api.test_api_invoices import URL, numbers
from tests.unit.test_rendering import document


async def issue(fake: FakeApi, number: str, order_id: str, site: str | None, job_id: str = "job-1") -> None:
    record = await fake.invoices.allocate(
        tenant="shop",
        order_id=order_id,
        job_id=job_id,
        seq=len(fake.invoices.records) + 1,
        number=number,
        document=document(),
        site_code=site,
        scope=site or "",
    )
    assert record is not None
    await fake.invoices.mark_issued(record, f"shop/{number}.pdf")


async def test_the_list_filters_by_site(api: httpx.AsyncClient, fake: FakeApi) -> None:
    await issue(fake, "FR-1", "o-1", "fr", "job-a")
    await issue(fake, "DE-1", "o-2", None, "job-a")
    await issue(fake, "FR-2", "o-3", "fr", "job-b")
    await issue(fake, "AT-1", "o-4", "at", "job-b")
    assert await numbers(api) == ["AT-1", "FR-2", "DE-1", "FR-1"]
    assert await numbers(api, siteCode="fr") == ["FR-2", "FR-1"]
    assert await numbers(api, siteCode="at") == ["AT-1"]
    assert await numbers(api, siteCode="ch") == []
    assert await numbers(api, siteCode="fr", jobId="job-b") == ["FR-2"]
    # Pages of a site's list follow its cursor.
    first = (await api.get(URL, params={"siteCode": "fr", "limit": "1"})).json()
    assert [item["number"] for item in first["items"]] == ["FR-2"]
    rest = await api.get(URL, params={"siteCode": "fr", "limit": "1", "cursor": first["nextCursor"]})
    assert [item["number"] for item in rest.json()["items"]] == ["FR-1"]


@pytest.mark.parametrize("site", ["a:b", "x" * 65, "", "-fr", "f r"])
async def test_a_site_code_that_cannot_be_one_is_400(api: httpx.AsyncClient, site: str) -> None:
    response = await api.get(URL, params={"siteCode": site})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "400" and "siteCode" in response.text
