"""The reminder rules (invoicing/reminders.py): which level is due, when the invoice is looked at next, and
the words in the invoice's language with its locale's money and dates."""

from datetime import date
from decimal import Decimal

import pytest

from invoicing.reminders import Level, ReminderFacts, Wording, is_overdue, level_due, next_action_on, reminder_text

DUE = date(2026, 11, 30)
LEVELS = (Level(7), Level(21, Decimal("5.00")))


def test_overdue_from_the_day_after_the_due_date() -> None:
    assert not is_overdue(DUE, DUE)
    assert is_overdue(DUE, date(2026, 12, 1))


@pytest.mark.parametrize(
    ("today", "sent", "due"),
    [
        (date(2026, 12, 6), 0, None),  # 6 days after
        (date(2026, 12, 7), 0, 1),
        (date(2026, 12, 7), 1, None),  # level 1 sent already
        (date(2026, 12, 20), 1, None),
        (date(2026, 12, 21), 1, 2),
        (date(2026, 12, 21), 0, 2),  # both missed: the latest one, not a burst
        (date(2027, 6, 1), 2, None),  # all sent
    ],
)
def test_the_level_due_is_the_latest_one_above_those_sent(today: date, sent: int, due: int | None) -> None:
    assert level_due(DUE, LEVELS, sent, today) == due


def test_the_next_day_to_look_is_overdue_then_each_level_never_before_today() -> None:
    assert next_action_on(DUE, LEVELS, 0, date(2026, 11, 20)) == date(2026, 12, 1)
    assert next_action_on(DUE, LEVELS, 0, date(2026, 12, 1)) == date(2026, 12, 7)
    assert next_action_on(DUE, LEVELS, 1, date(2026, 12, 7)) == date(2026, 12, 21)
    assert next_action_on(DUE, LEVELS, 1, date(2027, 1, 5)) == date(2027, 1, 5)  # late: today, not a swept day
    assert next_action_on(DUE, LEVELS, 2, date(2026, 12, 21)) is None
    assert next_action_on(DUE, (), 0, date(2026, 12, 1)) is None


def facts(language: str, locale: str) -> ReminderFacts:
    return ReminderFacts("INV-000042", "Müller GmbH", "Anna Schmidt", Decimal("1234.50"), "EUR", DUE, language, locale)


def test_german_reminder_names_invoice_amount_due_date_and_fee() -> None:
    text = reminder_text(facts("de", "de_DE"), 2, LEVELS[1])
    assert text.subject == "Zahlungserinnerung 2: Rechnung INV-000042 von Müller GmbH"
    assert "Hallo Anna Schmidt," in text.body
    assert "Rechnung INV-000042 über 1.234,50\xa0€ am 30. November 2026 fällig" in text.body
    assert "Mahngebühr von 5,00\xa0€" in text.body


def test_french_reminder_without_fee() -> None:
    text = reminder_text(facts("fr", "fr_FR"), 1, LEVELS[0])
    assert text.subject == "Rappel de paiement 1 : facture INV-000042 de Müller GmbH"
    assert "1\u202f234,50\xa0€" in text.body
    assert "était due le 30 novembre 2026" in text.body
    assert "frais" not in text.body


def test_english_is_the_source_wording() -> None:
    text = reminder_text(facts("en", "en_GB"), 1, LEVELS[0])
    assert text.subject == "Payment reminder 1: invoice INV-000042 from Müller GmbH"
    assert "€1,234.50 was due on 30 November 2026" in text.body


def test_an_override_replaces_only_its_language_and_its_part() -> None:
    level = Level(7, Decimal("2.5"), {"de": Wording(subject="Mahnung {level} zu {number} ({fee})")})
    german = reminder_text(facts("de", "de_DE"), 1, level)
    assert german.subject == "Mahnung 1 zu INV-000042 (2,50 €)"  # a header is one line of plain spaces
    assert german.body.startswith("Hallo Anna Schmidt,")  # the catalog's body
    assert reminder_text(facts("fr", "fr_FR"), 1, level).subject.startswith("Rappel de paiement 1")
