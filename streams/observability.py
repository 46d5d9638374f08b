"""The worker's metrics beyond the store's: pipeline step timings, finished orders by reason class, and
its consumer group's lag. The metrics themselves are defined once, in infra/metrics.py."""

import time
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from types import TracebackType

from opentelemetry.trace import Span

from infra.metrics import ORDERS_FINISHED, PIPELINE_STEP_SECONDS, tenant_label
from infra.tracing import tracer
from schemas.events import OrderFailed, OrderInvoiced


class step_timer(AbstractContextManager["step_timer"], AbstractAsyncContextManager["step_timer"]):
    """Times one pipeline step into invoice_pipeline_step_duration_seconds, in a span of the step's name
    (a child of the order's span). Usable in `with` and in `async with`, so it can share one statement
    with the step's own async context (a lock, say)."""

    def __init__(self, step: str) -> None:
        self._step = step
        self._histogram = PIPELINE_STEP_SECONDS.labels(step)
        self._started = 0.0
        self._span: AbstractContextManager[Span] | None = None

    def __enter__(self) -> "step_timer":
        self._span = tracer.start_as_current_span(self._step)
        self._span.__enter__()
        self._started = time.perf_counter()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._histogram.observe(time.perf_counter() - self._started)
        if self._span is not None:
            self._span.__exit__(kind, error, traceback)

    async def __aenter__(self) -> "step_timer":
        return self.__enter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.__exit__(kind, error, traceback)


def record_order_finished(result: OrderInvoiced | OrderFailed) -> None:
    if isinstance(result, OrderInvoiced):
        ORDERS_FINISHED.labels("SUCCESS", "none", tenant_label(result.tenant)).inc()
    else:
        ORDERS_FINISHED.labels("FAILURE", result.reasonClass, tenant_label(result.tenant)).inc()
