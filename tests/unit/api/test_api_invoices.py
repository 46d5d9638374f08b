"""Invoices over the fakes: the list's filters, pages and bad parameters, one invoice, its e-invoice XML and
its email resend, and each of their 4xx answers."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from infra.clients import SCOPE_MANAGE
from infra.kafka import KafkaUnavailable
from infra.records import InvoiceRecord
from tests.api_fakes import FakeApi, fake_settings
from tests.unit.test_rendering import document

URL = "/invoice/shop/invoices"


async def issue(fake: FakeApi, number: str, order_id: str, job_id: str = "job-1", **order: Any) -> InvoiceRecord:
    """An issued invoice of tenant shop in the fake store, its PDF stored."""
    record = await fake.invoices.allocate(
        tenant="shop",
        order_id=order_id,
        job_id=job_id,
        seq=len(fake.invoices.records) + 1,
        number=number,
        document=document(**order),
    )
    assert record is not None
    key = f"shop/{number}.pdf"
    await fake.storage.put(key, b"%PDF " + number.encode())
    await fake.invoices.mark_issued(record, key)
    found = await fake.invoices.find_by_number("shop", number)
    assert found is not None
    return found


@pytest.fixture
async def three(fake: FakeApi) -> list[InvoiceRecord]:
    return [
        await issue(fake, "INV-1", "o-1", "job-a"),
        await issue(fake, "INV/2", "o-2", "job-a"),
        await issue(fake, "INV-3", "o-3", "job-b"),
    ]


async def numbers(api: httpx.AsyncClient, **params: str) -> list[str]:
    response = await api.get(URL, params=params)
    assert response.status_code == 200, response.text
    return [item["number"] for item in response.json()["items"]]


async def test_invoices_are_listed_newest_first_and_filtered(api: httpx.AsyncClient, three: object) -> None:
    assert await numbers(api) == ["INV-3", "INV/2", "INV-1"]
    assert await numbers(api, orderId="o-2") == ["INV/2"]
    assert await numbers(api, invoiceNumber="INV-1") == ["INV-1"]
    assert await numbers(api, jobId="job-a") == ["INV/2", "INV-1"]
    assert await numbers(api, jobId="job-none") == []
    hour = timedelta(hours=1)
    assert await numbers(api, issuedFrom=(datetime.now(UTC) + hour).isoformat()) == []
    assert await numbers(api, issuedTo=(datetime.now(UTC) - hour).isoformat()) == []
    assert await numbers(api, issuedFrom=(datetime.now(UTC) - hour).isoformat()) == ["INV-3", "INV/2", "INV-1"]
    assert await numbers(api, type="credit-note") == []


async def test_another_tenants_invoices_are_not_listed(api: httpx.AsyncClient, three: object) -> None:
    response = await api.get("/invoice/other/invoices")
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert (await api.get("/invoice/other/invoices/INV-1")).status_code == 404


async def test_invoices_come_in_pages_by_cursor(api: httpx.AsyncClient, three: object) -> None:
    first = (await api.get(URL, params={"limit": "2"})).json()
    assert [item["number"] for item in first["items"]] == ["INV-3", "INV/2"]
    second = (await api.get(URL, params={"limit": "2", "cursor": first["nextCursor"]})).json()
    assert [item["number"] for item in second["items"]] == ["INV-1"]
    assert second.get("nextCursor") is None


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"cursor": "not a cursor!"}, "cursor"),
        ({"limit": "201"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"issuedFrom": "2026-01-01T00:00:00"}, "issuedFrom"),  # no offset: which day is it?
        ({"type": "receipt"}, "type"),
        ({"emailStatus": "LOST"}, "emailStatus"),
        ({"type": "credit-note", "jobId": "j"}, "jobId"),
        ({"type": "credit-note", "emailStatus": "SENT"}, "emailStatus"),
    ],
)
async def test_bad_list_parameters_are_400_naming_the_parameter(
    api: httpx.AsyncClient, params: dict[str, str], named: str
) -> None:
    response = await api.get(URL, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "400"
    assert named in response.json()["message"]


async def test_one_invoice_by_a_number_holding_a_slash(api: httpx.AsyncClient, three: object) -> None:
    response = await api.get(f"{URL}/INV/2")
    assert response.status_code == 200, response.text
    assert response.json()["number"] == "INV/2"
    assert (await api.get(f"{URL}/INV-404")).status_code == 404


async def test_an_invoice_not_yet_issued_is_404_to_read_and_409_to_email(api: httpx.AsyncClient, fake: FakeApi) -> None:
    await fake.invoices.allocate(tenant="shop", order_id="o-9", job_id="j", seq=9, number="INV-9", document=document())
    assert (await api.get(f"{URL}/INV-9")).status_code == 404
    response = await api.post(f"{URL}/INV-9/email")
    assert response.status_code == 409
    assert "still being made" in response.json()["message"]
    assert (await api.get(f"{URL}/INV-9/xml")).status_code == 409


async def test_an_email_resend_is_recorded_and_published(api: httpx.AsyncClient, fake: FakeApi) -> None:
    await issue(fake, "INV-1", "o-1", customer={"name": "Erika", "email": "erika@example.com"})
    response = await api.post(f"{URL}/INV-1/email")
    assert response.status_code == 202, response.text
    assert response.json()["recipient"] == "erika@example.com"
    assert [key for _, key, _ in fake.publisher.published] == ["shop:o-1"]


async def test_an_invoice_without_an_email_address_cannot_be_emailed(api: httpx.AsyncClient, fake: FakeApi) -> None:
    await issue(fake, "INV-1", "o-1")
    response = await api.post(f"{URL}/INV-1/email")
    assert response.status_code == 409
    assert "cannot be emailed" in response.json()["message"]


async def test_kafka_down_is_503_and_withdraws_the_resend(api: httpx.AsyncClient, fake: FakeApi) -> None:
    await issue(fake, "INV-1", "o-1", customer={"name": "Erika", "email": "erika@example.com"})
    fake.publisher.failing = KafkaUnavailable("no broker")
    assert (await api.post(f"{URL}/INV-1/email")).status_code == 503
    assert fake.invoices.email_requests == {}


async def test_resending_needs_the_manage_scope_and_has_a_quota() -> None:
    fake = FakeApi.build(fake_settings(quota_resends_per_invoice_per_hour=1))
    await issue(fake, "INV-1", "o-1", customer={"name": "Erika", "email": "erika@example.com"})
    read_only = fake.token(scopes=frozenset({"invoice.invoice_read"}))
    refused = fake.http.post(f"{URL}/INV-1/email", headers=read_only)
    assert refused.status_code == 403
    assert SCOPE_MANAGE in refused.json()["message"]
    assert fake.http.post(f"{URL}/INV-1/email", headers=fake.token()).status_code == 202
    again = fake.http.post(f"{URL}/INV-1/email", headers=fake.token())
    assert again.status_code == 429
    assert "Retry-After" in again.headers


async def test_the_xml_of_an_invoice(api: httpx.AsyncClient, fake: FakeApi) -> None:
    await issue(fake, "INV/7", "o-7")
    response = await api.get(f"{URL}/INV/7/xml")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert "INV_7-facturx.xml" in response.headers["content-disposition"]
    assert (await api.get(f"{URL}/INV/7/xml", params={"format": "pdf"})).status_code == 400


@pytest.mark.parametrize("params", [{"expires": "1", "signature": "x"}, {"expires": "1"}, {"signature": "x"}])
async def test_a_bad_or_partial_signed_xml_link_is_403(fake: FakeApi, params: dict[str, str]) -> None:
    await issue(fake, "INV-1", "o-1")
    response = fake.http.get(f"{URL}/INV-1/xml", params=params)  # no token: the link is all it has
    assert response.status_code == 403
    assert "XML link is invalid" in response.json()["message"]


async def test_a_signed_xml_link_needs_no_token(fake: FakeApi) -> None:
    await issue(fake, "INV-1", "o-1")
    link = httpx.URL(fake.resources.signer.link("shop", "INV-1", what="xml"))
    response = fake.http.get(f"{URL}/INV-1/xml", params=dict(link.params))
    assert response.status_code == 200, response.text
