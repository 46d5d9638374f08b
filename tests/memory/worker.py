"""The worker's resources on the fakes, wired as bootstrap/worker.py wires the real adapters."""

from typing import Any

from infra.settings import Settings
from streams.announcements import Announce
from streams.resources import WorkerResources
from tests.memory.adapters import MemoryGateway, MemoryMailer, MemoryRenderer, MemoryStorage
from tests.memory.credit_notes import MemoryCreditNotes
from tests.memory.invoices import MemoryCaptures, MemoryInvoices
from tests.memory.jobs import MemoryClaims, MemoryJobs, MemoryOrders
from tests.memory.reminders import MemoryReminders
from tests.memory.settings import MemoryTenantSettings
from tests.memory.webhooks import MemoryWebhooks


def memory_worker_resources(settings: Settings, announce: Announce, **given: Any) -> WorkerResources:
    """Every port a fresh fake, except those a test hands in `given` (by WorkerResources field name)."""
    render = given.pop("render", None) or MemoryRenderer()
    parts: dict[str, Any] = {
        "jobs": MemoryJobs(),
        "orders": MemoryOrders(),
        "invoices": MemoryInvoices(),
        "claims": MemoryClaims(),
        "tenant_settings": MemoryTenantSettings(),
        "storage": MemoryStorage(),
        "captures": MemoryCaptures(),
        "payment_gateway": MemoryGateway(),
        "mailer": MemoryMailer(),
        "credit_notes": MemoryCreditNotes(),
        "webhooks": MemoryWebhooks(),
        "reminders": MemoryReminders(),
        "render": render,
        "check_einvoice": render.check_einvoice,
    }
    return WorkerResources(settings=settings, announce=announce, **{**parts, **given})
