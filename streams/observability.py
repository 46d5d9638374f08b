"""The worker's metrics beyond the store's: pipeline step timings, finished orders by reason class, and
its consumer group's lag. The metrics themselves are defined once, in infra/metrics.py."""

import time
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from types import TracebackType

from infra.metrics import ORDERS_FINISHED, PIPELINE_STEP_SECONDS, tenant_label
from schemas.events import OrderFailed, OrderInvoiced
from schemas.public_events import ReasonClass


class step_timer(AbstractContextManager["step_timer"], AbstractAsyncContextManager["step_timer"]):
    """Times one pipeline step into invoice_pipeline_step_duration_seconds. Usable in `with` and in
    `async with`, so it can share one statement with the step's own async context (a lock, say)."""

    def __init__(self, step: str) -> None:
        self._histogram = PIPELINE_STEP_SECONDS.labels(step)
        self._started = 0.0

    def __enter__(self) -> "step_timer":
        self._started = time.perf_counter()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._histogram.observe(time.perf_counter() - self._started)

    async def __aenter__(self) -> "step_timer":
        return self.__enter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.__exit__(kind, error, traceback)


# The start of each failure message of streams/pipeline.py and streams/agents/invoice.py, by reason class.
# tests/unit/test_observability.py checks one order of each class against this table.
REASON_CLASSES: tuple[tuple[ReasonClass, tuple[str, ...]], ...] = (
    ("internal", ("Internal error",)),
    ("payment", ("payment", "Payment")),
    ("price", ("the recalculation gives",)),
    ("sequence", ("sequence exhausted",)),
)


def failure_reason_class(reason: str) -> ReasonClass:
    """validation, price, payment, sequence or internal: the kind of failure, never its free text."""
    for reason_class, markers in REASON_CLASSES:
        if any(marker in reason for marker in markers):
            return reason_class
    return "validation"


def record_order_finished(result: OrderInvoiced | OrderFailed) -> None:
    if isinstance(result, OrderInvoiced):
        ORDERS_FINISHED.labels("SUCCESS", "none", tenant_label(result.tenant)).inc()
    else:
        ORDERS_FINISHED.labels("FAILURE", failure_reason_class(result.reason), tenant_label(result.tenant)).inc()
