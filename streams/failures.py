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


async def send_to_dead_letters(event: Any, reason: str) -> None:
    """Keep the original bytes and say why; the agent then goes on with the next record."""
    message = event.message
    letter = DeadLetter(
        reason=reason[:2000],
        sourceTopic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=base64.b64encode(message.key).decode() if message.key else None,
        value=base64.b64encode(message.value or b"").decode(),
    )
    log.warning("dead-lettered %s[%s]@%s: %s", message.topic, message.partition, message.offset, reason[:300])
    delivery = await dead_letters.send(key=message.key, value=letter.to_bytes())
    await delivery
