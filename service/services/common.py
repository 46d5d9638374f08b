"""What the API's application services share: the errors they raise (service/errors.py turns them into
answers) and publishing a recorded request."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pymongo.errors import PyMongoError

from infra.kafka import KafkaUnavailable
from infra.ports import (
    EventPublisher,
)
from infra.records import (
    PageKey,
)

log = logging.getLogger(__name__)


class InvalidRequest(Exception):
    """400: the request cannot be done as asked; the message says why."""


class NotFound(Exception):
    """404."""


class Unconfirmed(Exception):
    """503: Kafka did not confirm a request and it could not be withdrawn either; it may still go ahead."""


class Conflict(Exception):
    """409: the resource is not in a state that allows this; `detail` (optional) goes to detailInfo."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


async def publish_or_withdraw(
    publisher: EventPublisher, topic: str, key: str, value: bytes, withdraw: Callable[[], Awaitable[bool]], what: str
) -> None:
    """Publish a request recorded in the store. A send that Kafka does not confirm (a timeout) may still
    have reached the broker, so the recorded request is withdrawn, unless the worker has started it:

    - withdrawn: KafkaUnavailable goes on to the client (503 "nothing was created"), and that is true,
      since the worker drops a record whose request is gone (streams/recorded.py);
    - started: the broker did take it, and the work goes on; this returns, and the caller answers as
      accepted, so the client is told of the work that is being done.

    Both are conditional writes on the request's one document, so exactly one of them wins."""
    try:
        await publisher.publish(topic, key, value)
    except KafkaUnavailable:
        try:
            withdrawn = await withdraw()
        except PyMongoError:
            log.exception("could not withdraw %s after Kafka did not confirm it", what)
            raise Unconfirmed(
                f"Kafka did not confirm {what} and it could not be withdrawn; it may still go ahead"
            ) from None
        if withdrawn:
            raise
        log.warning("%s: Kafka did not confirm it, but the worker has started it: accepted", what)


ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    """Up to `limit` items and the key of each; one more key than `limit` means another page exists."""

    items: list[ItemT]
    keys: list[PageKey]
