"""In-memory fakes of the ports of `infra/ports.py`, for unit tests without services. Each obeys the
same contract tests as its MongoDB adapter (tests/integration/test_store_contracts_*.py), so a unit test
on these says something about the real thing. One module per store; every fake is importable from here."""

from tests.memory.adapters import (
    MemoryGateway,
    MemoryMailer,
    MemoryPublisher,
    MemoryRenderer,
    MemoryStorage,
    MemoryWindowedCounters,
)
from tests.memory.credit_notes import MemoryCreditNotes
from tests.memory.invoices import MemoryCaptures, MemoryInvoices
from tests.memory.jobs import MemoryClaims, MemoryJobs, MemoryOrders
from tests.memory.paging import newest_first_page
from tests.memory.settings import MemoryTenantSettings
from tests.memory.webhooks import MemoryWebhooks

__all__ = [
    "MemoryCaptures",
    "MemoryClaims",
    "MemoryCreditNotes",
    "MemoryGateway",
    "MemoryInvoices",
    "MemoryJobs",
    "MemoryMailer",
    "MemoryOrders",
    "MemoryPublisher",
    "MemoryRenderer",
    "MemoryStorage",
    "MemoryTenantSettings",
    "MemoryWebhooks",
    "MemoryWindowedCounters",
    "newest_first_page",
]
