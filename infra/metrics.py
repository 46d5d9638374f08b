"""Prometheus metrics that both processes record (prometheus-client, the ecosystem's convention).

Store round trips are counted by a PyMongo command listener on the one client each process opens, so
every command the service sends is counted, whichever adapter sent it. No tenant or document values
as labels: the command name only.
"""

from prometheus_client import Counter
from pymongo import monitoring

STORE_COMMANDS = Counter(
    "invoice_store_commands", "MongoDB commands sent (each one round trip), by command name", ["command"]
)
STORE_COMMAND_FAILURES = Counter(
    "invoice_store_command_failures",
    "MongoDB commands that failed (refused or unanswered), by command name",
    ["command"],
)


class StoreCommandCounter(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        STORE_COMMANDS.labels(event.command_name).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        STORE_COMMAND_FAILURES.labels(event.command_name).inc()
