"""The payment gateway adapter against a real HTTP server on 127.0.0.1 (tests/fakes.py): what it sends,
which answers it retries, how long it tries, and that the API key stays out of every log line."""

import logging
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from pydantic import SecretStr

from infra.payments import CaptureDeclined, GatewayError, GatewayUnavailable, PaymentGateway
from infra.settings import Settings
from invoicing.payments import CaptureRequest
from tests.fakes import FakePaymentGateway, free_port

API_KEY = "sk_test_never_logged_4f1c"


@pytest.fixture(scope="module")
def gateway() -> Iterator[FakePaymentGateway]:
    with FakePaymentGateway(API_KEY, slow_seconds=1.5) as fake:
        yield fake


def client(url: str | None, key: str = API_KEY, retry_seconds: float = 2.0) -> PaymentGateway:
    return PaymentGateway(
        Settings(
            payment_gateway_url=url,
            payment_gateway_api_key=SecretStr(key),
            payment_gateway_timeout_seconds=0.5,
            payment_gateway_connect_timeout_seconds=0.5,
            payment_gateway_retry_seconds=retry_seconds,
        )
    )


def request(transaction_id: str, amount: str = "58.76") -> CaptureRequest:
    return CaptureRequest(
        transaction_id=transaction_id,
        amount=Decimal(amount),
        currency="EUR",
        idempotency_key=f"key-{transaction_id}",
        method="credit_card",
    )


async def test_capture_sends_the_amount_as_a_decimal_string_with_key_and_api_key(gateway: FakePaymentGateway) -> None:
    capture = await client(gateway.url).capture(request("ok-send", "1234.50"))
    [call] = gateway.calls_for("ok-send")
    assert call.status == 201
    assert call.body == {"transactionId": "ok-send", "amount": "1234.50", "currency": "EUR"}
    assert call.idempotency_key == "key-ok-send"
    assert call.authorization == f"Bearer {API_KEY}"
    assert capture.capture_id.startswith("cap-")


async def test_a_decline_is_final(gateway: FakePaymentGateway) -> None:
    with pytest.raises(CaptureDeclined) as declined:
        await client(gateway.url).capture(request("decline-final"))
    assert declined.value.reason == "Insufficient funds"
    assert len(gateway.calls_for("decline-final")) == 1


async def test_a_timeout_is_retried_with_the_same_key_and_charges_once(gateway: FakePaymentGateway) -> None:
    first = await client(gateway.url).capture(request("slow-once"))
    calls = gateway.calls_for("slow-once")
    assert [call.status for call in calls] == [201, 200]  # the second answered from the key
    assert {call.idempotency_key for call in calls} == {"key-slow-once"}
    assert gateway.charges["slow-once"] == 1
    assert first.capture_id.startswith("cap-")


async def test_5xx_is_retried_until_the_give_up_time(gateway: FakePaymentGateway) -> None:
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable, match="HTTP 503"):
        await client(gateway.url, retry_seconds=2.0).capture(request("down-give-up"))
    elapsed = time.monotonic() - started
    assert len(gateway.calls_for("down-give-up")) >= 2
    assert elapsed < 2.0 + 0.5 + 1.0  # the give-up time, one request's timeout, and slack
    gateway.heal("down-give-up")
    await client(gateway.url).capture(request("down-give-up"))
    assert gateway.charges["down-give-up"] == 1


async def test_nothing_listening_is_unavailable_within_the_give_up_time() -> None:
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable, match="not reachable"):
        await client(f"http://127.0.0.1:{free_port()}", retry_seconds=1.0).capture(request("ok-nowhere"))
    assert time.monotonic() - started < 1.0 + 0.5 + 1.0


async def test_a_wrong_api_key_is_an_error_that_is_not_retried(gateway: FakePaymentGateway) -> None:
    with pytest.raises(GatewayError, match="HTTP 401"):
        await client(gateway.url, key="wrong").capture(request("ok-wrong-key"))
    assert len(gateway.calls_for("ok-wrong-key")) == 1


async def test_without_a_configured_gateway_nothing_is_captured() -> None:
    with pytest.raises(GatewayUnavailable, match="no payment gateway is configured"):
        await client(None).capture(request("ok-unconfigured"))


async def test_the_api_key_is_never_logged(gateway: FakePaymentGateway, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await client(gateway.url).capture(request("ok-logged"))
    with pytest.raises(GatewayUnavailable) as unavailable:
        await client(gateway.url, retry_seconds=0.5).capture(request("down-logged"))
    assert caplog.records, "nothing was logged at all; the check below would prove nothing"
    assert API_KEY not in caplog.text
    assert API_KEY not in str(unavailable.value)
