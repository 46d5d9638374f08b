"""Failed token requests, counted per client and per source address, so that a secret cannot be
guessed at line speed. Kept in each API process: with N processes a guesser gets N times the limit,
which still bounds the rate."""

import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
MAX_KEYS = 100_000  # bounded memory whatever an attacker sends


class FailedLogins:
    def __init__(self, per_client: int, per_address: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = {"client": per_client, "address": per_address}
        self.clock = clock
        self.failures: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self.failures.get(key, deque())
        cutoff = self.clock() - WINDOW_SECONDS
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures

    def retry_after(self, client_id: str, address: str) -> int | None:
        """Seconds until the next attempt may be made, or None when it may be made now."""
        waits = []
        for key in (("client", client_id), ("address", address)):
            failures = self._recent(key)
            if len(failures) >= self.limits[key[0]]:
                waits.append(failures[0] + WINDOW_SECONDS - self.clock())
        return max(1, int(max(waits)) + 1) if waits else None

    def record_failure(self, client_id: str, address: str) -> None:
        if len(self.failures) >= MAX_KEYS:
            self.failures.clear()
        now = self.clock()
        for key in (("client", client_id), ("address", address)):
            failures = self._recent(key)
            failures.append(now)
            self.failures[key] = failures
