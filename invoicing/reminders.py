"""Overdue invoices and their reminders: which level is due, when the next thing happens, and the words. Pure.

An unsettled invoice is overdue from the day after its due date. Level n (1-based) is due `days[n-1]`
days after the due date; an invoice that missed several levels (the worker was away, or levels were
added) gets the latest one due, never a burst of all of them. `next_action_on` is the day the worker
looks at the invoice again (the bucket the index serves, infra/reminders.py).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency

from invoicing.language import gettext


@dataclass(frozen=True)
class Wording:
    subject: str | None = None
    body: str | None = None


@dataclass(frozen=True)
class Level:
    """One reminder level: sent `days_after_due` days after the due date, naming `fee` when there is one."""

    days_after_due: int
    fee: Decimal | None = None
    wording: Mapping[str, Wording] = field(default_factory=dict)  # by catalog language


def overdue_on(due_on: date) -> date:
    """The first day an unsettled invoice is overdue."""
    return due_on + timedelta(days=1)


def is_overdue(due_on: date, today: date) -> bool:
    return today >= overdue_on(due_on)


def level_due(due_on: date, levels: Sequence[Level], sent: int, today: date) -> int | None:
    """The level (1-based) to send today, after `sent` levels were sent: the latest one due that is
    above `sent`; None when none is."""
    due = [n for n, level in enumerate(levels, start=1) if due_on + timedelta(days=level.days_after_due) <= today]
    return due[-1] if due and due[-1] > sent else None


def next_action_on(due_on: date, levels: Sequence[Level], sent: int, today: date) -> date | None:
    """The day the worker looks at the invoice next: the day it becomes overdue, then each next level's
    day (never before `today`, so a pass that already swept past that day still finds it); None when no
    level is left."""
    if today < overdue_on(due_on):
        return overdue_on(due_on)
    if sent >= len(levels):
        return None
    return max(due_on + timedelta(days=levels[sent].days_after_due), today)


@dataclass(frozen=True)
class ReminderFacts:
    """What a reminder names, as the invoice says it."""

    number: str
    seller: str
    buyer: str
    amount_due: Decimal
    currency: str
    due_on: date
    language: str
    locale: str


@dataclass(frozen=True)
class ReminderText:
    subject: str
    body: str


def reminder_text(facts: ReminderFacts, level_number: int, level: Level) -> ReminderText:
    """The reminder's subject and body in the invoice's language, amounts and dates formatted for its
    locale: the level's override for that language where it has one, else the catalog's words."""

    def _(message: str) -> str:
        return gettext(facts.language, message)

    locale = Locale.parse(facts.locale)
    subject = _("Payment reminder {level}: invoice {number} from {seller}")
    if level.fee:
        body = _(
            "Hello {buyer},\n\n"
            "according to our records, invoice {number} of {amount_due} was due on {due_date} and has not "
            "been paid yet. Please transfer the amount due together with the reminder fee of {fee} soon. "
            "If you have paid in the meantime, please disregard this reminder.\n\n"
            "Kind regards\n"
            "{seller}\n"
        )
    else:
        body = _(
            "Hello {buyer},\n\n"
            "according to our records, invoice {number} of {amount_due} was due on {due_date} and has not "
            "been paid yet. Please transfer the amount due soon. "
            "If you have paid in the meantime, please disregard this reminder.\n\n"
            "Kind regards\n"
            "{seller}\n"
        )
    override = level.wording.get(facts.language)
    if override is not None:
        subject = override.subject or subject
        body = override.body or body
    values = {
        "number": facts.number,
        "seller": facts.seller,
        "buyer": facts.buyer,
        "level": str(level_number),
        "amount_due": format_currency(facts.amount_due, facts.currency, locale=locale),
        "due_date": format_date(facts.due_on, format="long", locale=locale),
        "fee": format_currency(level.fee, facts.currency, locale=locale) if level.fee else "",
    }
    return ReminderText(subject=" ".join(subject.format(**values).split()), body=body.format(**values))
