"""Payment gateway adapter: capture an authorised transaction over HTTP (httpx), as
docs/payment-gateway.md describes the gateway's API.

    POST {base}/captures   Idempotency-Key: <key>   Authorization: Bearer <api key>
    {"transactionId": "...", "amount": "58.76", "currency": "EUR"}
    201 or 200 {"captureId": "...", "status": "CAPTURED"}    captured (200: answered from the key)
    402 or 422 {"reason": "..."}                              declined: final
    5xx, 429, a timeout or no connection                      retried with backoff, within a bounded time

    POST {base}/refunds    the same, for a credit note: {"captureId": "...", "amount": "10.00", "currency": "EUR"}
    201 or 200 {"refundId": "...", "status": "REFUNDED"}

Amounts travel as decimal strings, never JSON numbers, so no float ever touches money. The API key is
a SecretStr and appears in no log line and no exception message.
"""

import logging
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_before_delay, wait_exponential

from infra.settings import Settings
from invoicing.payments import CaptureRequest, RefundRequest

log = logging.getLogger(__name__)

CAPTURED = {200, 201}
DECLINED = {402, 422}
# The first wait before a retry, and the longest; the give-up time is a setting.
RETRY_WAIT_INITIAL_SECONDS = 0.5
RETRY_WAIT_MAX_SECONDS = 10.0


@dataclass(frozen=True)
class Capture:
    capture_id: str


@dataclass(frozen=True)
class Refund:
    refund_id: str


class CaptureDeclined(Exception):
    """The gateway refused the capture or refund (HTTP 402/422); asking again would not change its mind."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GatewayUnavailable(Exception):
    """No usable answer within the retry time: the capture may be tried again later, with the same key."""


class GatewayError(Exception):
    """An answer the API does not define (a 4xx other than a decline, or a malformed body): most likely
    a configuration error such as a wrong API key or URL. Not retried, nothing recorded."""


class _Retryable(Exception):
    """One attempt that may succeed when repeated: a timeout, no connection, 5xx or 429."""


class PaymentGateway:
    def __init__(self, settings: Settings) -> None:
        self.base_url = settings.payment_gateway_url.rstrip("/") if settings.payment_gateway_url else None
        self._api_key = settings.payment_gateway_api_key
        self._retry_seconds = settings.payment_gateway_retry_seconds
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(
                settings.payment_gateway_timeout_seconds, connect=settings.payment_gateway_connect_timeout_seconds
            ),
            follow_redirects=False,
        )

    async def capture(self, request: CaptureRequest) -> Capture:
        """Capture the transaction. Raises CaptureDeclined, GatewayUnavailable or GatewayError."""
        body = {
            "transactionId": request.transaction_id,
            "amount": format(request.amount, "f"),
            "currency": request.currency,
        }
        answer = await self._post_retrying("captures", body, request.idempotency_key, "captureId")
        return Capture(capture_id=answer)

    async def refund(self, request: RefundRequest) -> Refund:
        """Refund (part of) a capture, for a credit note. Raises CaptureDeclined (the gateway refused the
        refund), GatewayUnavailable or GatewayError, exactly as `capture` does."""
        body = {"captureId": request.capture_id, "amount": format(request.amount, "f"), "currency": request.currency}
        answer = await self._post_retrying("refunds", body, request.idempotency_key, "refundId")
        return Refund(refund_id=answer)

    async def _post_retrying(self, path: str, body: dict[str, str], idempotency_key: str, id_field: str) -> str:
        """POST with retries of timeouts, 5xx and 429 for at most the retry time; the answer's `id_field`."""
        if self.base_url is None:
            raise GatewayUnavailable("no payment gateway is configured (INVOICE_PAYMENT_GATEWAY_URL)")
        attempts = 0
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(_Retryable),
                wait=wait_exponential(multiplier=RETRY_WAIT_INITIAL_SECONDS, max=RETRY_WAIT_MAX_SECONDS),
                # Never start a wait that would end past the give-up time: the bound is the setting.
                stop=stop_before_delay(self._retry_seconds),
                reraise=False,
            ):
                with attempt:
                    attempts += 1
                    return await self._post_once(path, body, idempotency_key, id_field)
        except RetryError as gave_up:
            last = gave_up.last_attempt.exception()
            raise GatewayUnavailable(
                f"the payment gateway gave no usable answer in {attempts} attempts over "
                f"{self._retry_seconds:g} s (last: {last})"
            ) from None
        raise AssertionError("unreachable: AsyncRetrying either returns, raises or gives up")  # pragma: no cover

    async def _post_once(self, path: str, body: dict[str, str], idempotency_key: str, id_field: str) -> str:
        headers = {"Idempotency-Key": idempotency_key}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.get_secret_value()}"
        try:
            response = await self._client.post(f"{self.base_url}/{path}", json=body, headers=headers)
        except httpx.TimeoutException as timeout:
            log.warning("payment gateway timed out: %s", type(timeout).__name__)
            raise _Retryable(f"timeout ({type(timeout).__name__})") from None
        except httpx.TransportError as error:
            log.warning("payment gateway not reachable: %s", type(error).__name__)
            raise _Retryable(f"not reachable ({type(error).__name__})") from None
        status = response.status_code
        if status in CAPTURED:
            answer_id = _json_field(response, id_field)
            if answer_id is None:
                raise GatewayError(f"the payment gateway answered HTTP {status} without a {id_field}")
            return answer_id
        if status in DECLINED:
            raise CaptureDeclined(_json_field(response, "reason") or f"declined (HTTP {status})")
        if status >= 500 or status == 429:
            log.warning("payment gateway answered HTTP %s", status)
            raise _Retryable(f"HTTP {status}")
        reason = _json_field(response, "reason")
        raise GatewayError(
            f"the payment gateway refused the request: HTTP {status}" + (f" ({reason})" if reason else "")
        )

    async def close(self) -> None:
        await self._client.aclose()


def _json_field(response: httpx.Response, name: str) -> str | None:
    """A string field of a JSON object body; None if the body is not one or lacks it."""
    try:
        body: Any = response.json()
    except ValueError:
        return None
    value = body.get(name) if isinstance(body, dict) else None
    return str(value)[:500] if isinstance(value, str | int) and str(value) else None
