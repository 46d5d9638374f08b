"""One contract, two implementations: every test of tests/integration/test_store_contracts_*.py runs against
the MongoDB adapter of a port (on the real MongoDB-wire server) and against its in-memory fake (tests/memory/),
so the fakes the unit tests use behave like what the worker and the API use. Each test works in a fresh tenant
of the run's own database, which is dropped after the run. Here: what those tests share, the `stores` fixture
(registered by tests/integration/conftest.py) and the builders of their records."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.captures import PaymentCaptures
from infra.claims import OrderClaims
from infra.credit_notes import CreditNoteRepository
from infra.db import ensure_indexes
from infra.invoices import InvoiceRepository
from infra.jobs import JobRepository
from infra.orders import OrderRepository
from infra.ports import (
    CaptureStore,
    ClaimStore,
    CreditNoteStore,
    JobStore,
    OrderStore,
    RequestState,
    TenantSettingsStore,
)
from infra.records import (
    OrderOutcome,
)
from infra.tenant_settings import TenantSettingsRepository
from invoicing.document import DEFAULT_SELLER, build_invoice_document
from invoicing.recalculation import recalculate
from schemas.api import OrderResultStatus
from schemas.orders import parse_order_event
from tests.factories import encoded, order_event
from tests.memory import (
    MemoryCaptures,
    MemoryClaims,
    MemoryCreditNotes,
    MemoryInvoices,
    MemoryJobs,
    MemoryOrders,
    MemoryTenantSettings,
)

STARTED, FINISHED, UNRECORDED = RequestState.STARTED, RequestState.FINISHED, RequestState.UNRECORDED


@dataclass
class Stores:
    kind: str
    jobs: JobStore
    orders: OrderStore
    claims: ClaimStore
    invoices: MemoryInvoices | InvoiceRepository  # both ports: InvoiceStore and InvoiceNumbers
    captures: CaptureStore
    tenant_settings: TenantSettingsStore
    credit_notes: CreditNoteStore
    raw_db: Any = None

    async def put_unreadable_order(self, tenant: str, order_id: str) -> None:
        body = {"id": order_id, "status": "NO-SUCH-STATUS"}
        if isinstance(self.orders, MemoryOrders):
            self.orders.put_raw(tenant, order_id, body)
        else:
            await self.raw_db.orders.insert_one({"_id": f"{tenant}:{order_id}", "tenant": tenant, "order": body})


@pytest.fixture(params=["memory", "mongo"])
async def stores(request: pytest.FixtureRequest, mongo_db: Any) -> Stores:
    if request.param == "memory":
        return Stores(
            "memory", MemoryJobs(), MemoryOrders(), MemoryClaims(), MemoryInvoices(), MemoryCaptures(),
            MemoryTenantSettings(), MemoryCreditNotes(),
        )  # fmt: skip
    await ensure_indexes(mongo_db)
    return Stores(
        "mongo",
        JobRepository(mongo_db),
        OrderRepository(mongo_db),
        OrderClaims(mongo_db),
        InvoiceRepository(mongo_db),
        PaymentCaptures(mongo_db),
        TenantSettingsRepository(mongo_db),
        CreditNoteRepository(mongo_db),
        raw_db=mongo_db,
    )


def new_id() -> str:
    return uuid.uuid4().hex


def outcome(
    tenant: str,
    job_id: str,
    order_id: str,
    status: OrderResultStatus = OrderResultStatus.SUCCESS,
    *,
    at: int | None,
) -> OrderOutcome:
    """A result of the order at place `at` of its job (None: a request written before places were carried)."""
    return OrderOutcome(
        tenant,
        job_id,
        order_id,
        status,
        f"{order_id} {status.value}",
        "N-1" if status is OrderResultStatus.SUCCESS else None,
        position=at,
    )


def document(tenant: str, order_id: str, number: str) -> Any:
    order = parse_order_event(encoded(order_event(tenant, order_id))).order
    return build_invoice_document(
        order=order, tenant=tenant, totals=recalculate(order), invoice_number=number,
        issued_at=datetime.now(UTC), seller=DEFAULT_SELLER, captured=None,
    )  # fmt: skip
