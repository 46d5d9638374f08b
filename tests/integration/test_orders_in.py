"""`invoice-service orders publish`: order events from a file, through the real Kafka, into the order store."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.factories import order_event
from tests.integration.flows import stored
from tests.support import ROOT, WorkerProcess

pytestmark = pytest.mark.integration


def publish_file(path: Path, env: dict[str, str], *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cli", "orders", "publish", str(path), *options]
    return subprocess.run(command, env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True, timeout=120)


async def test_publish_checks_each_event_and_publishes_the_valid_ones(
    worker: WorkerProcess, service_env: dict[str, str], stored_order: Any, tenant: str, tmp_path: Path
) -> None:
    broken = order_event(tenant, "broken")
    del broken["order"]["billingAddress"]
    events = [order_event(tenant, "from-file-1"), broken, order_event(tenant, "from-file-2", total="58.760")]
    path = tmp_path / "orders.ndjson"
    path.write_text("\n".join(json.dumps(event) for event in events) + "\n")

    result = publish_file(path, service_env)

    assert result.returncode == 1, result.stderr
    assert "2 published, 1 rejected" in result.stdout
    assert "rejected line 2: order.billingAddress: Field required" in result.stderr
    await stored(stored_order, tenant, "from-file-1", "from-file-2")
    assert await stored_order(tenant, "broken") is None


def test_dry_run_publishes_nothing(service_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([order_event("drytenant", "o-1")]))
    result = publish_file(path, service_env, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "1 valid (dry run, nothing published)" in result.stdout
