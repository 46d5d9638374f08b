"""The worker's timers (schedule, consumer lag) under the agents' failure policy (streams/failures.py):
they have no record to dead-letter, so a defect is logged with a reference, and the next tick runs (a
timer whose function raised would stop for good)."""

import re
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest


async def test_the_lag_timer_logs_a_defect_with_a_reference_and_measures_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from streams.agents import lag

    ticks: list[int] = []

    class Consumer:
        def assignment(self) -> list[Any]:
            ticks.append(len(ticks))
            if len(ticks) == 1:
                raise RuntimeError("injected defect in assignment")
            return []

    app = SimpleNamespace(consumer=Consumer())
    await lag.measure_consumer_lag(app)  # a timer that raised would stop for good
    await lag.measure_consumer_lag(app)
    assert ticks == [0, 1]
    assert re.search(r"measuring the consumer lag failed, reference [0-9a-f]{12}", caplog.text)


async def test_the_schedule_timer_logs_a_defect_with_a_reference_and_ticks_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from streams.agents import schedule

    ticks: list[datetime] = []

    async def opened() -> Any:
        if not ticks:
            ticks.append(datetime.now(UTC))
            raise RuntimeError("injected defect in opening the resources")
        return SimpleNamespace(tenant_settings=None, jobs=None)

    async def start_due_jobs(_: Any, now: datetime) -> list[str]:
        ticks.append(now)
        return []

    monkeypatch.setattr(schedule, "start_due_jobs", start_due_jobs)
    topics: Any = SimpleNamespace(job_requests=SimpleNamespace(publish=None))
    await schedule.start_scheduled_jobs(topics, opened)  # a timer that raised would stop for good
    await schedule.start_scheduled_jobs(topics, opened)
    assert len(ticks) == 2
    assert re.search(r"starting the scheduled jobs failed, reference [0-9a-f]{12}", caplog.text)
