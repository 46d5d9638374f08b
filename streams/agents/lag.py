"""Timer "lag": the worker's consumer lag per topic and partition, as the Prometheus gauge
invoice_consumer_lag, for the dashboard and the lag alert (KEDA reads the same lag from Kafka itself)."""

from functools import partial
from typing import Any

import faust

from infra.metrics import CONSUMER_LAG
from infra.settings import Settings
from streams.app import Topics
from streams.failures import run_tick
from streams.resources import ResourcesProvider

CONSUMER_LAG_INTERVAL_SECONDS = 5.0


async def measure_consumer_lag(app: Any) -> None:
    # It reads a private attribute of Faust's consumer: a Faust that changed it fails here, logged, and the
    # timer goes on (a timer that raised would stop for good).
    await run_tick("measuring the consumer lag", partial(record_consumer_lag, app))


async def record_consumer_lag(app: Any) -> None:
    """Lag of each partition assigned to this worker: the partition's end offset minus its group's
    committed offset. Each worker reports its own partitions, so a sum over workers is the group's lag."""
    consumer: Any = app.consumer  # Faust's consumer: its committed offsets have no public accessor
    CONSUMER_LAG.clear()  # partitions revoked since the last measurement are another worker's now
    for tp in consumer.assignment():
        try:
            end = consumer.highwater(tp)
        except Exception:  # noqa: S112 (no fetch on this partition yet: nothing to report, nothing to log)
            continue
        if end is None:
            continue
        # Faust keeps the offsets it committed (the next record to read); None before its first commit.
        committed = consumer._committed_offset.get(tp) or 0
        CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(0, end - committed))


def register(app: faust.App, topics: Topics, resources: ResourcesProvider, settings: Settings) -> None:
    async def measure_consumer_lag_now() -> None:
        await measure_consumer_lag(app)

    # Registered without decorator syntax: Faust's timer decorator is untyped.
    app.timer(interval=CONSUMER_LAG_INTERVAL_SECONDS, name=f"{__name__}.measure_consumer_lag")(measure_consumer_lag_now)
