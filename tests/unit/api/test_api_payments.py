"""Payments over the fakes: POST/GET .../payments, every 4xx, the Idempotency-Key, the invoice's
settlement fields (overdue derived by the injected clock) and the list's payment filters."""

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from infra.clients import SCOPE_READ
from infra.kafka import KafkaUnavailable
from infra.records import InvoiceRecord
from tests.api_fakes import FakeApi
from tests.unit.api.test_api_invoices import issue

URL = "/invoice/shop/invoices"
AFTER_DUE = datetime(2026, 12, 10, 0, 0, tzinfo=UTC)  # the fake invoices are due on 9 Dec 2026


def body(amount: str = "20.00", **fields: Any) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR", "date": "2026-12-01", "method": "bank_transfer"} | fields


@pytest.fixture
async def invoice(fake: FakeApi) -> InvoiceRecord:
    return await issue(fake, "INV/7", "o-7")  # gross 58.76 EUR; a number with '/'


async def pay(api: httpx.AsyncClient, amount: str = "20.00", key: str | None = None, **fields: Any) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return await api.post(f"{URL}/INV/7/payments", json=body(amount, **fields), headers=headers)


async def test_a_partial_then_a_full_payment_then_one_too_many(api: httpx.AsyncClient, invoice: object) -> None:
    first = await pay(api, "20.00", reference="RF18")
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["payment"] | {"paymentId": "x", "recordedAt": "t"} == {
        "paymentId": "x", "amount": "20.00", "currency": "EUR", "date": "2026-12-01", "method": "bank_transfer",
        "reference": "RF18", "recordedAt": "t", "source": "api",
    }  # fmt: skip
    assert answer["invoice"] == {
        "invoiceNumber": "INV/7", "currency": "EUR", "paymentStatus": "partially_paid", "amountPaid": "20.00",
        "amountDue": "38.76", "dueOn": "2026-12-09",
    }  # fmt: skip
    full = await pay(api, "38.76")
    assert full.status_code == 201 and full.json()["invoice"]["paymentStatus"] == "paid"
    assert full.json()["invoice"]["amountDue"] == "0.00"
    over = await pay(api, "0.01")
    assert over.status_code == 409
    assert "nothing is due" in over.json()["message"] and over.json()["detailInfo"] == "amountDue: 0.00 EUR"
    listed = await api.get(f"{URL}/INV/7/payments")
    assert listed.status_code == 200
    assert [p["amount"] for p in listed.json()["items"]] == ["20.00", "38.76"]
    assert listed.json()["invoice"]["paymentStatus"] == "paid"


async def test_more_than_is_due_answers_409_with_what_is_open(api: httpx.AsyncClient, invoice: object) -> None:
    await pay(api, "50.00")
    over = await pay(api, "8.77")
    assert over.status_code == 409
    assert over.json()["message"] == ("Invoice INV/7: the payment of 8.77 EUR is more than the amount due of 8.76 EUR")
    assert over.json()["detailInfo"] == "amountDue: 8.76 EUR"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"amount": "0"}, "must be positive"),
        ({"amount": "-5.00"}, "must be positive"),
        ({"amount": "1.001"}, "more decimals than EUR"),
        ({"currency": "USD"}, "in USD, the invoice in EUR"),
    ],
)
async def test_bad_amounts_and_currencies_answer_400(
    api: httpx.AsyncClient, invoice: object, fields: dict[str, str], words: str
) -> None:
    answer = await api.post(f"{URL}/INV/7/payments", json=body() | fields)
    assert answer.status_code == 400
    assert words in answer.json()["message"]


@pytest.mark.parametrize(
    "fields",
    [{"amount": "ten"}, {"currency": "eur"}, {"date": "yesterday"}, {"method": ""}, {"extra": 1}, {"method": None}],
)
async def test_malformed_bodies_answer_400(api: httpx.AsyncClient, invoice: object, fields: dict[str, Any]) -> None:
    answer = await api.post(f"{URL}/INV/7/payments", json=body() | fields)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "400"


async def test_an_unknown_invoice_answers_404(api: httpx.AsyncClient) -> None:
    assert (await api.post(f"{URL}/INV-404/payments", json=body())).status_code == 404
    assert (await api.get(f"{URL}/INV-404/payments")).status_code == 404


async def test_a_retry_under_the_same_key_answers_the_first_payment(
    api: httpx.AsyncClient, fake: FakeApi, invoice: InvoiceRecord
) -> None:
    first = await pay(api, "20.00", key="pay-1")
    again = await pay(api, "20.00", key="pay-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["payment"] == first.json()["payment"]
    stored = await fake.invoices.find_by_number("shop", "INV/7")
    assert stored is not None and len(stored.payments) == 1
    other = await pay(api, "21.00", key="pay-1")
    assert other.status_code == 409 and "Idempotency-Key 'pay-1'" in other.json()["message"]
    assert (await pay(api, "20.00", key="pay-2")).status_code == 201  # another key: another payment


async def test_the_invoice_shows_its_settlement_and_overdue_by_the_clock(
    api: httpx.AsyncClient, fake: FakeApi, invoice: object
) -> None:
    shown = (await api.get(f"{URL}/INV/7")).json()
    assert (shown["paymentStatus"], shown["amountPaid"], shown["amountDue"]) == ("open", "0", "58.76")
    await pay(api, "8.76")
    fake.clock.now = AFTER_DUE
    shown = (await api.get(f"{URL}/INV/7")).json()
    assert (shown["paymentStatus"], shown["amountPaid"], shown["amountDue"]) == ("overdue", "8.76", "50.00")
    assert (await api.get(f"{URL}/INV/7/payments")).json()["invoice"]["paymentStatus"] == "overdue"
    await pay(api, "50.00")
    assert (await api.get(f"{URL}/INV/7")).json()["paymentStatus"] == "paid"


async def test_the_list_filters_by_payment_status_and_due_date(api: httpx.AsyncClient, fake: FakeApi) -> None:
    await issue(fake, "INV-1", "o-1")
    await issue(fake, "INV-2", "o-2")
    await issue(fake, "INV-3", "o-3")
    await api.post(f"{URL}/INV-2/payments", json=body("1.00"))
    await api.post(f"{URL}/INV-3/payments", json=body("58.76"))

    async def numbers(**params: str) -> list[str]:
        answer = await api.get(URL, params=params)
        assert answer.status_code == 200, answer.text
        return sorted(item["number"] for item in answer.json()["items"])

    assert await numbers(paymentStatus="open") == ["INV-1"]
    assert await numbers(paymentStatus="partially_paid") == ["INV-2"]
    assert await numbers(paymentStatus="paid") == ["INV-3"]
    assert await numbers(paymentStatus="overdue") == []
    assert await numbers(dueTo="2026-12-09") == []
    assert await numbers(dueFrom="2026-12-09", dueTo="2026-12-10") == ["INV-1", "INV-2", "INV-3"]
    fake.clock.now = AFTER_DUE
    assert await numbers(paymentStatus="overdue") == ["INV-1", "INV-2"]
    assert await numbers(paymentStatus="open") == []
    bad = await api.get(URL, params={"paymentStatus": "late"})
    assert bad.status_code == 400
    notes = await api.get(URL, params={"type": "credit-note", "paymentStatus": "paid"})
    assert notes.status_code == 400 and "paymentStatus" in notes.json()["message"]


@pytest.mark.parametrize("number", ["INV/7", "2026/payments", "A/pdf/payments"])
async def test_payments_is_the_payments_of_the_number_before_it(
    api: httpx.AsyncClient, fake: FakeApi, number: str
) -> None:
    """Route precedence: GET .../payments is not the one invoice "<number>/payments" of the catch-all."""
    await issue(fake, number, "o-x")
    listed = await api.get(f"{URL}/{number}/payments")
    assert listed.status_code == 200, listed.text
    assert listed.json()["invoice"]["invoiceNumber"] == number
    recorded = await api.post(f"{URL}/{number}/payments", json=body())
    assert recorded.status_code == 201 and recorded.json()["invoice"]["invoiceNumber"] == number


async def test_recording_needs_the_manage_scope(fake: FakeApi, invoice: object) -> None:
    read_only = fake.token(scopes=frozenset({SCOPE_READ}))
    answer = fake.http.post(f"{URL}/INV/7/payments", json=body(), headers=read_only)
    assert answer.status_code == 403
    assert fake.http.get(f"{URL}/INV/7/payments", headers=read_only).status_code == 200


def paid_events(fake: FakeApi) -> list[tuple[dict[str, Any], dict[str, bytes]]]:
    return [
        (json.loads(value), dict(headers))
        for (topic, _, value), headers in zip(fake.publisher.published, fake.publisher.headers, strict=True)
        if topic.endswith("invoice-events")
    ]


async def test_invoice_paid_is_published_when_a_payment_settles_the_invoice(
    api: httpx.AsyncClient, fake: FakeApi, invoice: object
) -> None:
    await pay(api, "20.00")
    assert paid_events(fake) == []
    await pay(api, "38.76", key="last")
    [(event, headers)] = paid_events(fake)
    assert event | {"paidAt": "t"} == {
        "tenant": "shop", "type": "invoice.paid", "orderId": "o-7", "invoiceNumber": "INV/7", "currency": "EUR",
        "grossTotal": "58.76", "amountPaid": "58.76", "paidAt": "t",
    }  # fmt: skip
    assert headers["ce_type"] == b"invoice.paid" and headers["ce_subject"] == b"o-7"


async def test_when_kafka_misses_invoice_paid_a_retry_with_the_key_announces_it_under_the_same_id(
    api: httpx.AsyncClient, fake: FakeApi, invoice: object
) -> None:
    fake.publisher.failing = KafkaUnavailable("down")
    missed = await pay(api, "58.76", key="k")
    assert missed.status_code == 503 and "same Idempotency-Key" in missed.json()["message"]
    fake.publisher.failing = None
    again = await pay(api, "58.76", key="k")
    assert again.status_code == 200 and again.json()["invoice"]["paymentStatus"] == "paid"
    third = await pay(api, "58.76", key="k")
    assert third.status_code == 200
    ids = {headers["ce_id"] for _, headers in paid_events(fake)}
    assert len(paid_events(fake)) == 2 and len(ids) == 1  # announced again, one state change
