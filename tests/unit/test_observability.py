"""The failure reason classes of the metrics and public events, set where the pipeline fails an order
(run on the in-memory fakes of tests/unit/test_pipeline.py), and the public events' CloudEvents IDs."""

from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.events import OrderFailed, OrderInvoiceRequested
from schemas.public_events import InvoiceEmailed, InvoiceFailed, JobCompleted
from schemas.settings import SequenceSettings
from streams.pipeline import failed_by_defect
from tests.unit.test_pipeline import TENANT, World, card


@pytest.mark.parametrize(
    ("order_id", "setup", "reason_class"),
    [
        ("missing-payment-1", None, "validation"),  # unknown order; the ID's "payment" is no payment failure
        ("declined", {"status": "DECLINED"}, "validation"),
        ("wrong-total", {"total": "60.00"}, "price"),
        ("no-transaction", {"payments": [{"method": "credit_card", "status": "AUTHORIZED"}]}, "payment"),
        ("too-little", {"payments": [{**card("ok-9")[0], "authorizedAmount": 10}]}, "payment"),
        ("refused", {"payments": card("decline-1")}, "payment"),
        ("unreachable", {"payments": card("down-1")}, "payment"),
    ],
)
async def test_each_failure_of_the_pipeline_has_its_class(
    order_id: str, setup: dict[str, Any] | None, reason_class: str
) -> None:
    world = World()
    if setup is not None:
        await world.add_order(order_id, **setup)
    result = await world.invoice(order_id)
    assert isinstance(result, OrderFailed)
    assert result.reasonClass == reason_class, result.reason


async def test_an_exhausted_sequence_is_its_own_class() -> None:
    world = World()
    await world.tenant_settings.write(
        TENANT, SequenceSettings(preText="N__num__", numberOfDigits=1, startValue=1, maxValue=1)
    )
    await world.add_order("o-1")
    await world.add_order("o-2")
    await world.invoice("o-1")
    result = await world.invoice("o-2")
    assert isinstance(result, OrderFailed)
    assert result.reasonClass == "sequence"


def test_an_internal_error_is_its_own_class() -> None:
    request = OrderInvoiceRequested(tenant="shop", jobId="j1", orderId="o-1")
    result = failed_by_defect(request, "0123456789ab")
    assert result.reasonClass == "internal" and result.reason.endswith("(reference 0123456789ab)")


def test_one_state_change_has_one_cloud_event_id_whenever_it_is_emitted() -> None:
    from streams.public_events import cloud_event_headers, cloud_event_id

    failed = InvoiceFailed(tenant="shop", jobId="j1", orderId="o-1", reason="x", reasonClass="validation")
    again = failed.model_copy(update={"reason": "x, with another reference"})
    assert cloud_event_id(failed) == cloud_event_id(again)  # a redelivery of the same failure
    assert cloud_event_id(failed) != cloud_event_id(failed.model_copy(update={"jobId": "j2"}))  # another job
    at = datetime(2026, 11, 25, tzinfo=UTC)
    emailed = InvoiceEmailed(tenant="shop", orderId="o-1", invoiceNumber="INV-1", emailedAt=at)
    resent = emailed.model_copy(update={"emailedAt": datetime(2026, 11, 26, tzinfo=UTC)})
    assert cloud_event_id(emailed) != cloud_event_id(resent)  # a resend is a state change of its own
    completed = JobCompleted(tenant="shop", jobId="j1", totalOrders=1, succeeded=1, failed=0, completedAt=at)
    assert cloud_event_id(completed) == cloud_event_id(completed.model_copy(update={"completedAt": datetime.now(UTC)}))
    headers = dict(cloud_event_headers(completed))
    assert headers["ce_subject"] == b"j1" and headers["ce_type"] == b"job.completed"
    assert headers["ce_source"] == b"/invoice-service/shop" and headers["content-type"] == b"application/json"
