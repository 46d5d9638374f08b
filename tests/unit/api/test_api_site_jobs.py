"""AUTOMATIC jobs limited to one site: `siteCode` in the job request (a documented extension), the site's
own invoice settings else the tenant's, and a selection whose every query is an equality on siteCode too
(the index of infra/db.py serves it). On the fakes; the query shape on the adapter's own function."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from infra.mapping import order_selection
from infra.orders import selection_queries
from infra.settings import Settings
from schemas.api import JobType
from schemas.events import JobRequested
from schemas.orders import parse_order_event
from schemas.settings import InvoiceSettings
from streams.agents.plan import select_automatic_orders
from streams.announcements import keep_to_yourself
from tests.api_fakes import FakeApi
from tests.factories import encoded, order_event
from tests.memory.worker import memory_worker_resources

URL = "/invoice/shop/jobs/invoices"
TENANT_SETTINGS = InvoiceSettings(threshold="24", status="COMPLETED")
SITE_SETTINGS = InvoiceSettings(threshold="48", status="COMPLETED,SHIPPED")


def requested(fake: FakeApi) -> JobRequested:
    [(_, _, value)] = fake.publisher.published
    return JobRequested.model_validate_json(value)


async def test_an_automatic_job_of_a_site_carries_it_and_the_sites_invoice_settings(
    api: httpx.AsyncClient, fake: FakeApi
) -> None:
    await fake.tenant_settings.write("shop", TENANT_SETTINGS)
    await fake.tenant_settings.write("shop", SITE_SETTINGS, site="fr")
    response = await api.post(URL, json={"jobType": "AUTOMATIC", "siteCode": "fr"})
    assert response.status_code == 201, response.text
    event = requested(fake)
    assert (event.siteCode, event.invoiceSettings) == ("fr", SITE_SETTINGS)


async def test_a_site_without_invoice_settings_of_its_own_selects_by_the_tenants(
    api: httpx.AsyncClient, fake: FakeApi
) -> None:
    await fake.tenant_settings.write("shop", TENANT_SETTINGS)
    await fake.tenant_settings.write("shop", SITE_SETTINGS, site="fr")
    assert (await api.post(URL, json={"jobType": "AUTOMATIC", "siteCode": "at"})).status_code == 201
    assert (requested(fake).siteCode, requested(fake).invoiceSettings) == ("at", TENANT_SETTINGS)


async def test_a_site_with_invoice_settings_of_its_own_needs_none_of_the_tenant(
    api: httpx.AsyncClient, fake: FakeApi
) -> None:
    await fake.tenant_settings.write("shop", SITE_SETTINGS, site="fr")
    assert (await api.post(URL, json={"jobType": "AUTOMATIC", "siteCode": "fr"})).status_code == 201
    refused = await api.post(URL, json={"jobType": "AUTOMATIC"})  # the tenant's own job: the tenant's settings
    assert refused.status_code == 400 and "invoice settings" in refused.json()["message"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"jobType": "MANUAL", "orderIds": ["a"], "siteCode": "fr"}, "AUTOMATIC jobs only"),
        ({"jobType": "AUTOMATIC", "siteCode": "a:b"}, "siteCode"),
        ({"jobType": "AUTOMATIC", "siteCode": ""}, "siteCode"),
        ({"jobType": "AUTOMATIC", "siteCode": "x" * 65}, "siteCode"),
        ({"jobType": "AUTOMATIC", "siteCode": 7}, "siteCode"),
    ],
)
async def test_bad_site_job_requests_are_400(
    api: httpx.AsyncClient, fake: FakeApi, body: object, expected: str
) -> None:
    await fake.tenant_settings.write("shop", TENANT_SETTINGS)
    response = await api.post(URL, json=body)
    assert response.status_code == 400, response.text
    assert expected in response.json()["message"]
    assert fake.publisher.published == []


async def test_the_selection_of_a_site_takes_only_its_orders() -> None:
    resources = memory_worker_resources(Settings(), keep_to_yourself)
    for order_id, site in [("o-fr-1", "fr"), ("o-de", "de"), ("o-none", None), ("o-fr-2", "fr")]:
        raw = order_event("shop", order_id)
        if site:
            raw["order"]["siteCode"] = site
        event = parse_order_event(encoded(raw))
        await resources.orders.store_snapshot(tenant="shop", occurred_at=event.occurredAt, order=event.order)
    at = datetime(2026, 12, 1, tzinfo=UTC)

    def job(site: str | None) -> JobRequested:
        return JobRequested(
            tenant="shop",
            jobId=f"j-{site}",
            jobType=JobType.AUTOMATIC,
            invoiceSettings=TENANT_SETTINGS,
            requestedAt=at,
            siteCode=site,
        )

    assert sorted(await select_automatic_orders(resources, job("fr"))) == ["o-fr-1", "o-fr-2"]
    assert await select_automatic_orders(resources, job("ch")) == []
    assert sorted(await select_automatic_orders(resources, job(None))) == ["o-de", "o-none"]  # fr's are claimed


def test_every_query_of_a_site_selection_is_an_equality_on_its_site() -> None:
    settings = InvoiceSettings(threshold="24", status="COMPLETED,SHIPPED", extendedOrderStatus="70")
    before = datetime(2026, 12, 1, tzinfo=UTC) - timedelta(hours=24)
    queries = selection_queries("shop", order_selection(settings, "fr"), before)
    assert [query["status"] for query in queries] == ["COMPLETED", "SHIPPED"]
    assert all(
        query["siteCode"] == "fr" and query["tenant"] == "shop" and query["awaitingInvoice"] for query in queries
    )
    assert all("siteCode" not in query for query in selection_queries("shop", order_selection(settings), before))


def test_a_job_request_without_a_site_keeps_the_digest_it_had_before_sites() -> None:
    event = JobRequested(tenant="shop", jobId="j", jobType=JobType.MANUAL, orderIds=["a"])
    assert b"siteCode" not in event.to_bytes()
    assert b'"siteCode":"fr"' in event.model_copy(update={"siteCode": "fr"}).to_bytes()
