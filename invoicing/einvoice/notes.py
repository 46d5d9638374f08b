"""BG-1 invoice notes (BT-21 subject code, BT-22 text) and the seller's legal registration scheme (BT-30-1):
the seller's footer, and what a French seller's invoice must state (Code de commerce art. L441-9 and
L441-10; the French CIUS rules BR-FR-05 ask for the notes PMT, PMD and AAB, BT-30 with scheme 0002 for
the SIREN, BR-FR-13 a seller electronic address).

The French notes are in French whatever the invoice's language (the mentions of French law); their
msgids are English, in the message catalogs like every text (invoicing/language.py)."""

import re
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency

from invoicing.document import EMAIL_SCHEME, ElectronicAddress, InvoiceDocument, SellerDetails
from invoicing.language import N_, gettext

# UNTDID 4451 text subject codes of the French mandatory notes.
SUBJECT_RECOVERY_FEE = "PMT"
SUBJECT_LATE_PAYMENT_PENALTIES = "PMD"
SUBJECT_NO_EARLY_PAYMENT_DISCOUNT = "AAB"

RECOVERY_FEE = N_(
    "In case of late payment, a business customer owes a fixed compensation of {amount} for recovery "
    "costs (Art. L441-10 and D441-5 of the French Commercial Code)."
)
LATE_PAYMENT_PENALTIES = N_(
    "Late payment penalties: three times the French statutory interest rate (Art. L441-10 of the French "
    "Commercial Code)."
)
NO_EARLY_PAYMENT_DISCOUNT = N_("No discount for early payment.")

FRANCE = "FR"
FRENCH = "fr"
RECOVERY_FEE_EUR = Decimal(40)  # Code de commerce art. D441-5
SCHEME_SIREN = "0002"  # ISO 6523 ICD of the French SIRENE register
SIREN = re.compile(r"^[0-9]{9}$")


@dataclass(frozen=True)
class Note:
    """BG-1: one invoice note."""

    text: str  # BT-22
    subject_code: str | None = None  # BT-21, UNTDID 4451


def siren_ok(siren: str) -> bool:
    """A SIREN: nine digits whose Luhn checksum holds."""
    if not SIREN.fullmatch(siren):
        return False
    total = 0
    for index, digit in enumerate(int(char) for char in reversed(siren)):
        doubled = digit * 2 if index % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def legal_registration_scheme(seller: SellerDetails) -> str | None:
    """BT-30-1: the seller's own scheme, else 0002 for a French seller whose registration is a SIREN."""
    if seller.legal_registration_scheme:
        return seller.legal_registration_scheme
    registration = (seller.legal_registration_id or "").replace(" ", "")
    if seller.address.country == FRANCE and siren_ok(registration):
        return SCHEME_SIREN
    return None


def legal_registration_id(seller: SellerDetails) -> str | None:
    """BT-30 as the XML states it: a SIREN without its spaces (it is written "552 120 222" on paper)."""
    if seller.legal_registration_id and legal_registration_scheme(seller) == SCHEME_SIREN:
        return seller.legal_registration_id.replace(" ", "")
    return seller.legal_registration_id


def seller_electronic_address(seller: SellerDetails, configured: ElectronicAddress | None) -> ElectronicAddress | None:
    """BT-34: the one of settings/einvoice; a French seller without one is reached at its email (scheme EM),
    since the French rules make BT-34 mandatory (BR-FR-13)."""
    if configured is not None or seller.address.country != FRANCE or not seller.email:
        return configured
    return ElectronicAddress(seller.email, EMAIL_SCHEME)


def french_notes(language: str = FRENCH, locale: str = FRENCH) -> tuple[Note, ...]:
    """PMT, PMD and AAB, in French for the XML (or in `language` for the PDF); the recovery fee is 40 euros
    whatever the invoice's currency."""
    fee = format_currency(RECOVERY_FEE_EUR, "EUR", locale=locale)
    return (
        Note(gettext(language, RECOVERY_FEE).format(amount=fee), SUBJECT_RECOVERY_FEE),
        Note(gettext(language, LATE_PAYMENT_PENALTIES), SUBJECT_LATE_PAYMENT_PENALTIES),
        Note(gettext(language, NO_EARLY_PAYMENT_DISCOUNT), SUBJECT_NO_EARLY_PAYMENT_DISCOUNT),
    )


def printed_french_notes(document: InvoiceDocument) -> tuple[str, ...]:
    """What the PDF of a French seller prints of the same mentions: in the invoice's language and locale."""
    seller = document.seller
    if seller.address.country != FRANCE:
        return ()
    return tuple(note.text for note in french_notes(seller.language, seller.locale))


def document_notes(document: InvoiceDocument) -> tuple[Note, ...]:
    """BG-1: the seller's footer, then a French seller's mandatory notes."""
    seller = document.seller
    footer = (Note(seller.footer),) if seller.footer else ()
    if seller.address.country != FRANCE:
        return footer
    return footer + french_notes()
