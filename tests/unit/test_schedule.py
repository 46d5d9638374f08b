"""When a schedule is due: always a whole minute, the latest at or before now, read in the tenant's zone;
a schedule that never fires is refused, and a tenant whose schedule fails stops only its own jobs."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError
from pymongo.errors import AutoReconnect

from invoicing.schedule import latest_due
from schemas.events import JobRequested, utc_now
from schemas.settings import InvoiceSettings
from service.errors import describe_validation_errors
from streams.scheduling import ScheduleDeps, start_due_jobs
from tests.memory import MemoryJobs, MemoryTenantSettings

SCHEDULED = {"threshold": "24", "status": "COMPLETED", "schedule": "0 2 * * *", "timeZone": "Europe/Berlin"}


@pytest.mark.parametrize(
    ("expression", "zone", "now", "due"),
    [
        # Asked within the due minute, even in its first second: that minute, never `now` itself.
        ("* * * * *", "UTC", datetime(2026, 11, 29, 23, 32, 0, 700000, tzinfo=UTC), datetime(2026, 11, 29, 23, 32)),
        ("* * * * *", "UTC", datetime(2026, 11, 29, 23, 32, 59, 999999, tzinfo=UTC), datetime(2026, 11, 29, 23, 32)),
        ("30 23 * * *", "UTC", datetime(2026, 11, 29, 23, 30, tzinfo=UTC), datetime(2026, 11, 29, 23, 30)),
        ("30 23 * * *", "UTC", datetime(2026, 11, 29, 23, 29, 59, tzinfo=UTC), datetime(2026, 11, 28, 23, 30)),
        # 02:00 in Berlin is 01:00 UTC in winter and 00:00 UTC in summer.
        ("0 2 * * *", "Europe/Berlin", datetime(2026, 11, 29, 12, tzinfo=UTC), datetime(2026, 11, 29, 1)),
        ("0 2 * * *", "Europe/Berlin", datetime(2026, 7, 1, 12, tzinfo=UTC), datetime(2026, 7, 1, 0)),
        # Days of missed times: only the latest.
        ("0 2 * * *", "UTC", datetime(2026, 12, 3, 1, tzinfo=UTC), datetime(2026, 12, 2, 2)),
    ],
)
def test_latest_due_time(expression: str, zone: str, now: datetime, due: datetime) -> None:
    assert latest_due(expression, zone, now) == due.replace(tzinfo=UTC)


# --- a schedule that never fires: refused at the API, and harmless to the others when stored before ----


@pytest.mark.parametrize("expression", ["0 0 31 2 *", "0 0 30 2 *", "15 3 31 4,6,9,11 *"])
def test_a_schedule_that_never_fires_is_refused_naming_schedule(expression: str) -> None:
    with pytest.raises(ValidationError) as refused:
        InvoiceSettings.model_validate({**SCHEDULED, "schedule": expression})
    # As the settings API reports a body that does not validate (service/errors.py): 400 with this message.
    errors = [{**error, "loc": ("body", *error["loc"])} for error in refused.value.errors()]
    message, _ = describe_validation_errors(errors)
    assert message.startswith("Invalid request: schedule: never fires"), message


def test_a_schedule_that_fires_only_on_leap_days_is_taken() -> None:
    assert InvoiceSettings.model_validate({**SCHEDULED, "schedule": "0 2 29 2 *"}).schedule == "0 2 29 2 *"


def failures_counted(reason_class: str) -> float:
    return (
        REGISTRY.get_sample_value("invoice_schedule_failures_total", {"reason_class": reason_class, "tenant": ""}) or 0
    )


class UnreachableForOneTenant(MemoryJobs):
    """The store answers for every tenant's jobs but one's."""

    def __init__(self, tenant: str) -> None:
        super().__init__()
        self.unreachable = tenant

    async def create(self, *, tenant: str, **fields: Any) -> None:
        if tenant == self.unreachable:
            raise AutoReconnect("connection reset while inserting the job")
        await super().create(tenant=tenant, **fields)


@pytest.mark.parametrize(
    ("failure", "reason_class"), [("poisoned schedule", "defect"), ("store away for its job", "transient")]
)
async def test_a_failing_tenant_is_logged_and_counted_and_the_others_jobs_start(
    failure: str, reason_class: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = MemoryTenantSettings()
    jobs = MemoryJobs() if failure == "poisoned schedule" else UnreachableForOneTenant("broken")
    await settings.write("healthy", InvoiceSettings.model_validate(SCHEDULED))
    if failure == "poisoned schedule":
        # Stored before the validator refused it: straight into the store, past the model.
        settings.values["broken:invoice"] = {**SCHEDULED, "schedule": "0 0 31 2 *"}
        settings.scheduled_since["broken"] = utc_now()
    else:
        await settings.write("broken", InvoiceSettings.model_validate(SCHEDULED))
    for tenant in ("broken", "healthy"):  # the broken tenant first: a failure that aborted would stop both
        settings.scheduled_since[tenant] -= timedelta(days=2)
    requested: list[JobRequested] = []

    async def request_job(request: JobRequested) -> None:
        requested.append(request)

    counted = failures_counted(reason_class)
    started = await start_due_jobs(ScheduleDeps(settings, jobs, request_job), utc_now())

    assert [request.tenant for request in requested] == ["healthy"] and len(started) == 1
    assert failures_counted(reason_class) == counted + 1
    [logged] = [entry for entry in caplog.records if "tenant broken" in entry.getMessage()]
    assert getattr(logged, "tenant", None) == "broken"
    if reason_class == "defect":
        assert re.search(r"failed, reference [0-9a-f]{12}", logged.getMessage())
