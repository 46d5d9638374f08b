"""Credit notes over the fakes: requesting one (its 400s, 404, 409s, 503 and scope) and reading one."""

import httpx
import pytest

from infra.clients import SCOPE_MANAGE, SCOPE_READ
from infra.kafka import KafkaUnavailable
from tests.api_fakes import FakeApi
from tests.unit.api.test_api_invoices import issue
from tests.unit.test_rendering import document

WHOLE = {"reason": "Order returned", "wholeInvoice": True}


def url(number: str) -> str:
    return f"/invoice/shop/invoices/{number}/credit-notes"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"wholeInvoice": True}, "reason"),
        ({"reason": "", "wholeInvoice": True}, "reason"),
        ({"reason": "   ", "wholeInvoice": True}, "reason must not be blank"),
        ({"reason": "r"}, "give wholeInvoice: true, or lines"),
        ({"reason": "r", "wholeInvoice": True, "shipping": True}, "give no lines and no shipping"),
        ({"reason": "r", "lines": [{"entryId": "1", "quantity": "-1"}]}, "quantity"),
        ([], "must be a JSON object"),
    ],
)
async def test_bad_credit_note_requests_are_400(
    api: httpx.AsyncClient, fake: FakeApi, body: object, expected: str
) -> None:
    await issue(fake, "INV/1", "o-1")
    response = await api.post(url("INV/1"), json=body)
    assert response.status_code == 400, response.text
    assert expected in response.json()["message"]
    assert fake.publisher.published == []


async def test_a_credit_note_of_no_invoice_is_404_and_of_one_being_made_409(
    api: httpx.AsyncClient, fake: FakeApi
) -> None:
    assert (await api.post(url("INV-404"), json=WHOLE)).status_code == 404
    await fake.invoices.allocate(tenant="shop", order_id="o-9", job_id="j", seq=9, number="INV-9", document=document())
    response = await api.post(url("INV-9"), json=WHOLE)
    assert response.status_code == 409
    assert "still being made" in response.json()["message"]


async def test_a_requested_credit_note_is_published_and_in_progress(api: httpx.AsyncClient, fake: FakeApi) -> None:
    await issue(fake, "INV/1", "o-1")
    response = await api.post(url("INV/1"), json=WHOLE)
    assert response.status_code == 202, response.text
    note_id = response.json()["creditNoteId"]
    assert len(fake.publisher.published) == 1
    read = await api.get(f"/invoice/shop/credit-notes/{note_id}")
    assert read.status_code == 200, read.text
    assert read.json()["status"] == "IN_PROGRESS"
    assert (await api.get(f"/invoice/other/credit-notes/{note_id}")).status_code == 404


async def test_an_unknown_credit_note_is_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/invoice/shop/credit-notes/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "404"


async def test_kafka_down_is_503_and_leaves_no_request(api: httpx.AsyncClient, fake: FakeApi) -> None:
    await issue(fake, "INV/1", "o-1")
    fake.publisher.failing = KafkaUnavailable("no broker")
    assert (await api.post(url("INV/1"), json=WHOLE)).status_code == 503
    assert fake.credit_notes.requests == {}


async def test_requesting_needs_the_manage_scope_and_reading_the_read_scope(fake: FakeApi) -> None:
    await issue(fake, "INV/1", "o-1")
    read_only, manage_only = fake.token(scopes=frozenset({SCOPE_READ})), fake.token(scopes=frozenset({SCOPE_MANAGE}))
    refused = fake.http.post(url("INV/1"), json=WHOLE, headers=read_only)
    assert refused.status_code == 403
    accepted = fake.http.post(url("INV/1"), json=WHOLE, headers=manage_only)
    assert accepted.status_code == 202
    note = f"/invoice/shop/credit-notes/{accepted.json()['creditNoteId']}"
    assert fake.http.get(note, headers=manage_only).status_code == 403
    assert fake.http.get(note, headers=read_only).status_code == 200
