"""Failed token requests, counted per (client ID, source address) in the store, so that every API
replica sees the same count and a secret cannot be guessed at line speed.

The first `free_failures` failures of a pair cost nothing; after that each further failure makes the
pair wait, 1 s after the first and twice as long after each next (at most `max_delay`). While a pair
waits its attempts are answered 429 with Retry-After and not verified at all: verifying them would tell
a guesser which guess was right, at the speed of the hash. The trade-off: the owner of a secret is
refused only when calling from the very address that failed, during that wait; from any other address,
and whatever other addresses or other client IDs send, a correct secret passes. The source address is
the caller's own, or what a trusted proxy forwards (settings.trusted_proxies), never what a caller says.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from infra.limits import WindowedCounters
from schemas.events import utc_now


class LoginBackoff:
    def __init__(
        self,
        counters: WindowedCounters,
        *,
        free_failures: int,
        max_delay: timedelta,
        window: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.counters = counters
        self.free_failures = free_failures
        self.max_delay = max_delay
        self.window = window
        self.clock = clock

    @staticmethod
    def _key(client_id: str, address: str) -> str:
        return f"login\x00{client_id}\x00{address}"

    def delay(self, failures: int) -> timedelta:
        """The wait after `failures` failures: none up to free_failures, then 1 s, 2 s, 4 s, ..."""
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 32)  # 2**32 s is past any max_delay
        return min(self.max_delay, timedelta(seconds=2**doublings))

    async def retry_after(self, client_id: str, address: str) -> int | None:
        """Seconds the pair must still wait, or None when its attempt may be verified now."""
        now = self.clock()
        failures = await self.counters.read(self._key(client_id, address), self.window, now)
        if failures.last_at is None:
            return None
        wait = (failures.last_at + self.delay(failures.count) - now).total_seconds()
        return max(1, int(wait + 0.999)) if wait > 0 else None

    async def record_failure(self, client_id: str, address: str) -> None:
        await self.counters.add(self._key(client_id, address), self.window, self.clock())
