"""How agents meet failure, one policy for all of them:

- a record that does not parse can never be processed: it goes to the dead-letter topic with the
  reason and its original bytes (`parse_or_dead_letter`);
- a dependency that is away (MongoDB, storage, Kafka) is waited for: the step is retried without limit;
- anything else is a defect: it is logged with a reference and the record is dead-lettered with the
  reason, the reference and its original bytes, where an operator can replay it once the defect is
  fixed (`run_step`). Nothing is dropped silently, and the partition goes on.

Every agent's work on a record runs inside these: parsing included (a parser that raises something else
than ValueError is a defect too), and what a step does after a defect (failing the request visibly) is a
step of its own. Agents that take records in batches run a step on the batch and, when it meets a
defect, on each record alone (`run_batch_step`), so only the records at fault are dead-lettered. Timers
have no record: their defects are logged with a reference and the next tick runs (`run_tick`).
"""

import base64
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from aiokafka.errors import KafkaError, KafkaTimeoutError
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from pymongo.errors import ConnectionFailure, OperationFailure
from tenacity import AsyncRetrying, before_sleep_log, retry_if_exception, wait_exponential

from infra.jobs import PageContention
from infra.metrics import DEAD_LETTERS
from schemas.events import DeadLetter

log = logging.getLogger(__name__)


class UnboundDeadLetters:
    """The dead-letter topic before the worker is built (bootstrap/worker.py binds the real one)."""

    async def send(self, key: bytes | None, value: bytes) -> Any:
        raise RuntimeError("no dead-letter topic bound: build the worker with bootstrap.worker.build_worker")


# The Faust topic dead letters go to: every agent's every step may need it, so it is bound once, by the
# composition root (`bind_dead_letters`), rather than handed down through every step.
dead_letters: Any = UnboundDeadLetters()


def bind_dead_letters(channel: Any) -> None:
    global dead_letters
    dead_letters = channel


T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    """Errors of a dependency that is down or overloaded: the same work succeeds once it is back."""
    if isinstance(error, ConnectionFailure | EndpointConnectionError | ConnectionError | TimeoutError | PageContention):
        return True
    if isinstance(error, OperationFailure):
        return error.code in {11600, 11602, 91, 189, 262}  # interrupted, shutting down, primary stepped down
    if isinstance(error, ClientError):
        return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) >= 500
    if isinstance(error, KafkaError):
        # A broker away or electing a leader; a send that timed out may be retried (consumers take a
        # record seen twice), a record too large, say, may not.
        return error.retriable or isinstance(error, KafkaTimeoutError)
    return isinstance(error, BotoCoreError)


def retrying_transient() -> AsyncRetrying:
    """Retry while MongoDB or storage is unreachable, without limit: an event is never dropped because
    a dependency was briefly away, and nothing downstream could progress meanwhile anyway."""
    return AsyncRetrying(
        retry=retry_if_exception(is_transient),
        wait=wait_exponential(multiplier=0.2, max=15),
        before_sleep=before_sleep_log(log, logging.WARNING),
        reraise=True,
    )


# The dead letter holds the original value in base64 (4/3 of its size): a record near Kafka's 1 MB limit
# would make a letter over it, which Kafka refuses. Keep at most this much of a value, and of a key.
MAX_KEPT_VALUE_BYTES = 256 * 1024
MAX_KEPT_KEY_BYTES = 1024


async def send_to_dead_letters(event: Any, reason: str, reason_class: str = "unprocessable") -> None:
    """Keep the original bytes (the first of them, when too large) and say why; the agent then goes on
    with the next record. `reason_class` (invalid, defect, unprocessable) labels the dead-letter metric;
    the reason's text never does."""
    message = event.message
    value: bytes = message.value or b""
    key: bytes | None = message.key[:MAX_KEPT_KEY_BYTES] if message.key else None
    # A reason may quote the record (a lone surrogate, say), and the letter must always serialise.
    reason = reason[:2000].encode("utf-8", "backslashreplace").decode()
    letter = DeadLetter(
        reason=reason,
        sourceTopic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=base64.b64encode(key).decode() if key else None,
        value=base64.b64encode(value[:MAX_KEPT_VALUE_BYTES]).decode(),
        valueSize=len(value),
        valueTruncated=len(value) > MAX_KEPT_VALUE_BYTES,
    )
    log.warning("dead-lettered %s[%s]@%s: %s", message.topic, message.partition, message.offset, reason[:300])
    # Once the offset is committed the letter is the record's only copy: a broker away is waited for.
    async for attempt in retrying_transient():
        with attempt:
            sent = await dead_letters.send(key=key, value=letter.to_bytes())
            await sent
    DEAD_LETTERS.labels(message.topic, reason_class).inc()


async def parse_or_dead_letter(event: Any, parse: Callable[[bytes], T], what: str) -> T | None:
    """The record parsed by `parse`, or None once it is dead-lettered as an invalid `what`. `parse`
    raises ValueError (pydantic's ValidationError is one) for a record that cannot be processed."""
    try:
        return parse(event.value)
    except ValueError as error:
        await send_to_dead_letters(event, f"invalid {what}: {error}", "invalid")
        return None
    except Exception as error:  # a defect of the parser, not of the record: replayable once it is fixed
        await report_defect(event, f"parsing {what}", error)
        return None


@dataclass(frozen=True)
class Defect:
    """A step failed for a reason that retrying cannot mend; the record is dead-lettered."""

    reference: str


async def run_step(event: Any, what: str, step: Callable[[], Awaitable[T]]) -> T | Defect:
    """Run one agent's step for `event`: retried while a dependency is away; a defect is logged with a
    reference and the record dead-lettered with the reason. The caller decides what else a defect means
    for its step (the invoice agent, say, also fails the order, so its job still finishes)."""
    try:
        async for attempt in retrying_transient():
            with attempt:
                return await step()
    except Exception as error:
        return await report_defect(event, what, error)
    raise AssertionError("unreachable: tenacity either returns, retries or re-raises")  # pragma: no cover


ItemT = TypeVar("ItemT")


async def run_batch_step(
    batch: Sequence[tuple[Any, ItemT]], what: Callable[[ItemT], str], step: Callable[[Sequence[ItemT]], Awaitable[None]]
) -> None:
    """Run `step` on a batch's items (each with the event it came from) at once, retried while a
    dependency is away; when it meets a defect, on each item alone (`run_step`), so only the records
    at fault are dead-lettered, each with its reference, and the others are done."""
    try:
        async for attempt in retrying_transient():
            with attempt:
                await step([item for _, item in batch])
        return
    except Exception as error:
        log.warning("a batch of %d records failed (%s): each record alone", len(batch), type(error).__name__)
    for event, item in batch:
        await run_step(event, what(item), partial(step, [item]))


async def run_tick(what: str, step: Callable[[], Awaitable[None]]) -> None:
    """One tick of a timer: a failure is logged (a defect with a reference) and the next tick tries
    again; a timer whose function raised would stop for good. No retry within the tick: the next one is."""
    try:
        await step()
    except Exception as error:
        if is_transient(error):
            log.warning("%s failed, a dependency is away: %s", what, error)
        else:
            log_defect(what, error)


def log_defect(what: str, error: BaseException, **context: str) -> str:
    """Log a defect with a new reference, which the operator finds the stack trace by; returns it."""
    reference = uuid.uuid4().hex[:12]
    log.error("%s failed, reference %s", what, reference, exc_info=error, extra=context)
    return reference


async def report_defect(event: Any, what: str, error: Exception) -> Defect:
    reference = log_defect(what, error)
    await send_to_dead_letters(
        event, f"{what} failed (reference {reference}): {type(error).__name__}: {error}", "defect"
    )
    return Defect(reference)
