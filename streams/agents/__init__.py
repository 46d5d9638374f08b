"""The worker's agents and timers: each module's `register(app, topics, resources, settings)` adds its own
to a Faust app (bootstrap/worker.py calls them all); importing a module registers nothing."""

from streams.agents import credit, emails, invoice, lag, orders, plan, project, reminders, schedule, webhooks

# In the order they were registered before the composition root: Faust starts them in this order.
MODULES = (invoice, credit, emails, lag, orders, plan, project, schedule, webhooks, reminders)

__all__ = [
    "MODULES",
    "credit",
    "emails",
    "invoice",
    "lag",
    "orders",
    "plan",
    "project",
    "reminders",
    "schedule",
    "webhooks",
]
