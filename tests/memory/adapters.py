"""In-memory fakes of storage, mail, payment gateway, publisher, renderer and the windowed counters."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from infra.limits import WindowCount, window_start
from infra.mail import EmailNotSent, OutgoingEmail
from infra.payments import Capture, CaptureDeclined, GatewayError, GatewayUnavailable, Refund
from infra.storage import AlreadyStored
from invoicing.document import InvoiceDocument
from invoicing.einvoice import invoice_xml
from invoicing.payments import CaptureRequest, RefundRequest

# --- storage, mail, gateway, publisher, renderer ---------------------------------------------------


class MemoryStorage:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.failing: Exception | None = None  # raised by put, to play a store that refuses

    async def put(self, key: str, data: bytes) -> None:
        if self.failing is not None:
            raise self.failing
        if key in self.files:
            raise AlreadyStored(key)
        self.files[key] = data

    async def get(self, key: str) -> bytes:
        return self.files[key]

    async def check(self) -> None:
        return None

    async def download_link(self, key: str, tenant: str, invoice_number: str) -> str:
        return f"memory://{key}"

    async def close(self) -> None:
        return None


class MemoryMailer:
    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []
        self.failing: EmailNotSent | None = None

    async def send(self, email: OutgoingEmail) -> None:
        if self.failing is not None:
            raise self.failing
        self.sent.append(email)


@dataclass
class MemoryGateway:
    """Answers by the transaction ID's prefix, like tests/fakes.py's HTTP gateway: decline-, down-,
    broken- (an answer the API does not define); anything else is captured."""

    requests: list[CaptureRequest] = field(default_factory=list)
    refund_requests: list[RefundRequest] = field(default_factory=list)
    refunds_down: bool = False

    async def capture(self, request: CaptureRequest) -> Capture:
        self.requests.append(request)
        if request.transaction_id.startswith("decline-"):
            raise CaptureDeclined("Insufficient funds")
        if request.transaction_id.startswith("down-"):
            raise GatewayUnavailable("no answer within 60 s")
        if request.transaction_id.startswith("broken-"):
            raise GatewayError("HTTP 401 from the gateway")
        return Capture(capture_id=f"cap-{len(self.requests)}")

    async def refund(self, request: RefundRequest) -> Refund:
        """Refunds every capture, unless `refunds_down` (a gateway that gives no answer)."""
        self.refund_requests.append(request)
        if self.refunds_down:
            raise GatewayUnavailable("no answer within 60 s")
        return Refund(refund_id=f"ref-{len(self.refund_requests)}")


class MemoryPublisher:
    def __init__(self) -> None:
        self.published: list[tuple[str, str, bytes]] = []
        self.headers: list[list[tuple[str, bytes]]] = []  # of each published record
        self.failing: Exception | None = None

    async def publish(
        self, topic: str, key: str, value: bytes, headers: Sequence[tuple[str, bytes]] | None = None
    ) -> None:
        if self.failing is not None:
            raise self.failing
        self.published.append((topic, key, value))
        self.headers.append(list(headers or ()))


class MemoryRenderer:
    """Renders a document to a few bytes that name it; `failing` plays a renderer that breaks."""

    def __init__(self) -> None:
        self.rendered: list[InvoiceDocument] = []
        self.checked: list[InvoiceDocument] = []
        self.failing: Exception | None = None

    async def __call__(self, document: InvoiceDocument) -> bytes:
        if self.failing is not None:
            raise self.failing
        self.rendered.append(document)
        return b"%PDF-memory " + hashlib.sha256(document.invoice_number.encode()).hexdigest().encode()

    async def check_einvoice(self, document: InvoiceDocument) -> None:
        """The real check (pure and quick), only not in a process pool."""
        self.checked.append(document)
        invoice_xml(document)


# --- windowed counters ------------------------------------------------------------------------------


class MemoryWindowedCounters:
    """infra/limits.py's counters in a dict: one count and latest event per (key, window start)."""

    def __init__(self) -> None:
        self.windows: dict[tuple[str, timedelta, datetime], tuple[int, datetime]] = {}

    async def add(self, key: str, window: timedelta, now: datetime) -> WindowCount:
        start = window_start(now, window)
        count, last_at = self.windows.get((key, window, start), (0, now))
        self.windows[(key, window, start)] = (count + 1, max(last_at, now))
        return WindowCount(count + 1, max(last_at, now), start + window)

    async def read(self, key: str, window: timedelta, now: datetime) -> WindowCount:
        start = window_start(now, window)
        if (key, window, start) not in self.windows:
            return WindowCount(0, None, start + window)
        count, last_at = self.windows[(key, window, start)]
        return WindowCount(count, last_at, start + window)
