"""The worker's composition root (bootstrap/worker.py): the Faust app, its topics and agents built from
settings, the resources opened lazily from what the caller hands it (fakes here); nothing of the worker
reads settings at import."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bootstrap.worker import build_worker
from infra.settings import Settings
from streams import failures
from streams.announcements import Announce
from streams.resources import WorkerResources
from tests.memory import MemoryJobs
from tests.memory.worker import memory_worker_resources

ROOT = Path(__file__).parents[2]


def fake_resources(settings: Settings, announce: Announce) -> WorkerResources:
    return memory_worker_resources(settings, announce)


def test_the_worker_has_every_agent_on_its_topic_with_its_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failures, "dead_letters", failures.dead_letters)  # restored after the test
    settings = Settings(topic_prefix="p-", invoice_concurrency=3, email_concurrency=2)
    worker = build_worker(settings)
    agents = {name: (agent.channel.get_topic_name(), agent.concurrency) for name, agent in worker.app.agents.items()}
    assert agents == {
        "streams.agents.invoice.invoice_orders": ("p-invoice-order-requests", 3),
        "streams.agents.credit.make_credit_notes": ("p-invoice-credit-note-requests", 1),
        "streams.agents.credit.retry_refunds": ("p-invoice-refunds", 1),
        "streams.agents.emails.email_invoices": ("p-invoice-emails", 2),
        "streams.agents.orders.store_orders": ("p-order-events", 1),
        "streams.agents.plan.plan_jobs": ("p-invoice-job-requests", 1),
        "streams.agents.project.project_results": ("p-invoice-order-results", 1),
        "streams.agents.webhooks.record_webhook_deliveries": ("p-invoice-events", 1),
    }
    assert worker.app.conf.id == "p-invoice-worker"  # the consumer group
    assert failures.dead_letters is worker.topics.dead_letters.channel


async def test_the_resources_are_opened_once_on_first_use_from_what_the_caller_hands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(failures, "dead_letters", failures.dead_letters)
    settings = Settings()
    opened: list[WorkerResources] = []

    async def open_fakes(announce: Announce) -> WorkerResources:
        opened.append(fake_resources(settings, announce))
        return opened[-1]

    worker = build_worker(settings, open_fakes)
    assert opened == []  # not at build: in the worker's event loop, on the first agent's first use
    first, again = await worker.resources(), await worker.resources()
    assert first is again is opened[0] and len(opened) == 1
    assert isinstance(first.jobs, MemoryJobs)


def test_importing_the_worker_reads_no_settings() -> None:
    """With settings that do not load, the worker's modules still import (only building the worker reads them)."""
    env = {**os.environ, "INVOICE_TOPIC_PARTITIONS": "not a number"}
    code = "import bootstrap.worker, streams.agents, streams.app, streams.resources, streams.failures"
    imported = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    loaded: Any = subprocess.run(
        [sys.executable, "-c", "from infra.settings import get_settings; get_settings()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert loaded.returncode != 0 and "topic_partitions" in loaded.stderr  # the control: these settings fail
