"""Real servers on 127.0.0.1 that stand in for the outside world in tests and benchmarks: a payment
gateway (HTTP, as docs/payment-gateway.md defines it) and an SMTP server. Each runs in a thread of its
own, so it answers the worker process whatever the test's event loop is doing, and records what it got.
"""

import asyncio
import socket
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any, Self

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --- payment gateway --------------------------------------------------------------------------------


class Started:
    """A fake server of the tests: `with fake:` starts it and stops it at the end."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


@dataclass(frozen=True)
class GatewayCall:
    idempotency_key: str | None
    authorization: str | None
    body: dict[str, Any]
    status: int


class FakePaymentGateway(Started):
    """POST /captures as the real gateway answers it, with its behaviour chosen by the transaction ID's
    prefix, so tests sharing one gateway never interfere:

    ok-...       captured (201; the same Idempotency-Key again answers 200 with the same capture)
    decline-...  402 {"reason": "Insufficient funds"}
    slow-...     the first request captures, then answers too late (after `slow_seconds`); a retry with
                 the same key gets the capture from the key
    down-...     503 until `heal(transaction_id)`, then as ok-...
    norefund-... captured as ok-..., but POST /refunds of its captures answers 503 until `heal(transaction_id)`

    POST /refunds {"captureId", "amount", "currency"}: 201 {"refundId", "status": "REFUNDED"} (the same
    Idempotency-Key again: 200 with the same refund); 404 for a capture it never made.
    """

    def __init__(self, api_key: str, slow_seconds: float = 3.0) -> None:
        self.api_key = api_key
        self.slow_seconds = slow_seconds
        self.calls: list[GatewayCall] = []
        self.charges: dict[str, int] = {}  # transaction ID -> captures actually made
        self._by_key: dict[str, dict[str, Any]] = {}
        self._healed: set[str] = set()
        self.unavailable = False  # answers 503 to every capture while set: a gateway in maintenance
        self._transaction_of: dict[str, str] = {}  # capture ID -> its transaction
        self._refunds_by_key: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, list[str]] = {}  # transaction ID -> amounts actually refunded
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-gateway", daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def heal(self, transaction_id: str) -> None:
        with self._lock:
            self._healed.add(transaction_id)

    def calls_for(self, transaction_id: str) -> list[GatewayCall]:
        with self._lock:
            return [call for call in self.calls if call.body.get("transactionId") == transaction_id]

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_post("/captures", self._capture)
        app.router.add_post("/refunds", self._refund)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _capture(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        authorization = request.headers.get("Authorization")
        body = await request.json()
        status, answer, delay = self._decide(key, authorization, body)
        with self._lock:
            self.calls.append(GatewayCall(key, authorization, body, status))
        if delay:
            await asyncio.sleep(delay)
        return web.json_response(answer, status=status)

    def _decide(
        self, key: str | None, authorization: str | None, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any], float]:
        if authorization != f"Bearer {self.api_key}":
            return 401, {"reason": "unknown API key"}, 0
        transaction = body.get("transactionId")
        amount = body.get("amount")
        if not key or not isinstance(transaction, str) or not isinstance(amount, str):
            return 400, {"reason": "Idempotency-Key, transactionId and amount (a decimal string) are required"}, 0
        try:
            Decimal(amount)
        except InvalidOperation:
            return 400, {"reason": f"amount {amount!r} is not a decimal"}, 0
        with self._lock:
            if self.unavailable:
                return 503, {"reason": "maintenance"}, 0
            if key in self._by_key:
                return 200, self._by_key[key], 0
            if transaction.startswith("decline-"):
                return 402, {"status": "DECLINED", "reason": "Insufficient funds"}, 0
            if transaction.startswith("down-") and transaction not in self._healed:
                return 503, {"reason": "maintenance"}, 0
            capture_id = f"cap-{uuid.uuid4().hex[:12]}"
            capture = {
                "captureId": capture_id,
                "status": "CAPTURED",
                "transactionId": transaction,
                "amount": amount,
                "currency": body.get("currency"),
            }
            self._by_key[key] = capture
            self._transaction_of[capture_id] = transaction
            self.charges[transaction] = self.charges.get(transaction, 0) + 1
        return 201, capture, self.slow_seconds if transaction.startswith("slow-") else 0

    def refund_calls_for(self, transaction_id: str) -> list[GatewayCall]:
        with self._lock:
            captures = {capture for capture, made_for in self._transaction_of.items() if made_for == transaction_id}
            return [call for call in self.calls if call.body.get("captureId") in captures]

    async def _refund(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        authorization = request.headers.get("Authorization")
        body = await request.json()
        status, answer = self._decide_refund(key, authorization, body)
        with self._lock:
            self.calls.append(GatewayCall(key, authorization, body, status))
        return web.json_response(answer, status=status)

    def _decide_refund(
        self, key: str | None, authorization: str | None, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        if authorization != f"Bearer {self.api_key}":
            return 401, {"reason": "unknown API key"}
        capture, amount = body.get("captureId"), body.get("amount")
        if not key or not isinstance(capture, str) or not isinstance(amount, str):
            return 400, {"reason": "Idempotency-Key, captureId and amount (a decimal string) are required"}
        try:
            Decimal(amount)
        except InvalidOperation:
            return 400, {"reason": f"amount {amount!r} is not a decimal"}
        with self._lock:
            if key in self._refunds_by_key:
                return 200, self._refunds_by_key[key]
            transaction = self._transaction_of.get(capture)
            if transaction is None:
                return 404, {"reason": f"no capture {capture}"}
            if transaction.startswith("norefund-") and transaction not in self._healed:
                return 503, {"reason": "maintenance"}
            refund = {"refundId": f"ref-{uuid.uuid4().hex[:12]}", "status": "REFUNDED", "amount": amount}
            self._refunds_by_key[key] = refund
            self.refunds.setdefault(transaction, []).append(amount)
        return 201, refund


# --- SMTP -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    def attachments(self) -> list[tuple[str | None, bytes]]:
        return [(part.get_filename(), part.get_content()) for part in self.message.iter_attachments()]


class _Inbox:
    def __init__(self) -> None:
        self.mails: list[ReceivedMail] = []
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.startswith("unknown-"):
            return "550 5.1.1 No such user here"  # a final refusal of this recipient
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = message_from_bytes(bytes(envelope.original_content or b""), policy=default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.mails.append(ReceivedMail(str(envelope.mail_from), tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpSink(Started):
    """An SMTP server (aiosmtpd) that keeps every message; with credentials, it requires AUTH LOGIN/PLAIN.
    It can be stopped and started again on the same port, to play a mail server that is away. It refuses
    recipients whose address starts with "unknown-" for good (550)."""

    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        self.port = free_port()
        self.username, self.password = username, password
        self._inbox = _Inbox()
        self._controller: Controller | None = None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok)

    def start(self) -> None:
        credentials: dict[str, Any] = {}
        if self.username is not None:
            # Plain SMTP on loopback: AUTH without TLS is allowed here, never in production.
            credentials = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self._controller = Controller(self._inbox, hostname="127.0.0.1", port=self.port, **credentials)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def mails_to(self, recipient: str) -> list[ReceivedMail]:
        with self._inbox.lock:
            return [mail for mail in self._inbox.mails if recipient in mail.rcpt_tos]


def fakes_env(gateway: FakePaymentGateway, smtp: SmtpSink) -> dict[str, str]:
    """The INVOICE_* settings that point a service process at these fakes, with timeouts and retries short
    enough that a gateway answering too late or a mail server away shows within seconds, not a minute."""
    return {
        "INVOICE_PAYMENT_GATEWAY_URL": gateway.url,
        "INVOICE_PAYMENT_GATEWAY_API_KEY": gateway.api_key,
        "INVOICE_PAYMENT_GATEWAY_TIMEOUT_SECONDS": "1",
        "INVOICE_PAYMENT_GATEWAY_RETRY_SECONDS": "4",
        "INVOICE_SMTP_PORT": str(smtp.port),
        "INVOICE_SMTP_USERNAME": smtp.username or "",
        "INVOICE_SMTP_PASSWORD": smtp.password or "",
        "INVOICE_SMTP_TIMEOUT_SECONDS": "5",
        "INVOICE_EMAIL_RETRY_INITIAL_SECONDS": "0.5",
        "INVOICE_EMAIL_RETRY_MAX_SECONDS": "2",
    }
