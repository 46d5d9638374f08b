"""Timer "reminders": every INVOICE_REMINDER_PASS_SECONDS, on every worker, the overdue and reminder pass
(streams/reminding.py: each step once however many workers run), at the worker's injected clock."""

from functools import partial

import faust

from infra.settings import Settings
from streams.app import Topics
from streams.failures import run_tick
from streams.reminding import ReminderDeps, refresh_amount_open, remind
from streams.resources import ResourcesProvider


async def remind_now(topics: Topics, resources: ResourcesProvider) -> None:
    opened = await resources()
    deps = ReminderDeps(
        reminders=opened.reminders,
        tenant_settings=opened.tenant_settings,
        queue_email=topics.invoice_emails.publish,
        announce=opened.announce,
    )
    await remind(deps, opened.now())


async def refresh_now(resources: ResourcesProvider) -> None:
    opened = await resources()
    await refresh_amount_open(opened.reminders, opened.now())


def register(app: faust.App, topics: Topics, resources: ResourcesProvider, settings: Settings) -> None:
    async def run_reminder_pass() -> None:
        # What fails for the whole pass (the store away) is logged; the next tick sweeps the same days again.
        await run_tick("the overdue and reminder pass", partial(remind_now, topics, resources))

    app.timer(interval=settings.reminder_pass_seconds, name=f"{__name__}.run_reminder_pass")(run_reminder_pass)

    async def refresh_amount_open_gauge() -> None:
        await run_tick("the amount-open gauge", partial(refresh_now, resources))

    app.timer(interval=settings.amount_open_seconds, name=f"{__name__}.refresh_amount_open")(refresh_amount_open_gauge)
