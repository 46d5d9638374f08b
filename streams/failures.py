"""How agents meet failure: retry what is passing, dead-letter what can never be processed."""

import base64
import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from pymongo.errors import ConnectionFailure, OperationFailure
from tenacity import AsyncRetrying, before_sleep_log, retry_if_exception, wait_exponential

from schemas.events import DeadLetter
from streams.app import dead_letters

log = logging.getLogger(__name__)


def is_transient(error: BaseException) -> bool:
    """Errors of a dependency that is down or overloaded: the same work succeeds once it is back."""
    if isinstance(error, ConnectionFailure | EndpointConnectionError | ConnectionError | TimeoutError):
        return True
    if isinstance(error, OperationFailure):
        return error.code in {11600, 11602, 91, 189, 262}  # interrupted, shutting down, primary stepped down
    if isinstance(error, ClientError):
        return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) >= 500
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


async def send_to_dead_letters(event: Any, reason: str) -> None:
    """Keep the original bytes (the first of them, when too large) and say why; the agent then goes on
    with the next record."""
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
    delivery = await dead_letters.send(key=key, value=letter.to_bytes())
    await delivery
