"""Tenant settings, as the API reads and writes them (compatible extensions of the contract).

`InvoiceSettings` and `SequenceSettings` have the shape of the Emporix `invoiceSettings` configuration
value and of its sequence schema, so a tenant can copy them over unchanged. `infra/mapping.py` turns
them into the domain objects the worker uses.
"""

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Annotated, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from croniter import CroniterBadDateError, croniter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from invoicing.einvoice.notes import SCHEME_SIREN, siren_ok
from invoicing.language import available_languages, supported_language
from invoicing.numbering import NUMBER_PLACEHOLDER
from schemas.orders import OrderStatus

# re-exported: the placeholder and the languages with a catalog are the domain's, the API documents them
__all__ = ["NUMBER_PLACEHOLDER", "SCHEME_SIREN", "available_languages", "siren_ok", "supported_language"]

MAX_THRESHOLD_HOURS = Decimal(24 * 366 * 10)  # ten years
MAX_SEQUENCE_VALUE = 10**18 - 1
# A schedule must fire within this many years of now: 29 February fires every 4 years, every 8 around a
# century year (2096, then 2104); 31 February (which croniter calls valid) never.
SCHEDULE_HORIZON_YEARS = 8
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class TenantSettings(BaseModel):
    """One concern of a tenant's settings; `KIND` names its resource: /invoice/{tenant}/settings/{KIND}."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    KIND: ClassVar[str]

    def is_scheduled(self) -> bool:
        """Whether the worker starts jobs for it by a schedule (kept beside it, so such tenants are found by
        an indexed equality query)."""
        return False


def _comma_separated(value: object, what: str) -> list[str]:
    """A comma-separated list as Emporix stores it; a single number or a JSON array is taken too."""
    if isinstance(value, bool):
        raise ValueError(f"must be a comma-separated list of {what}")
    if isinstance(value, int | float | Decimal):
        value = str(value)
    if isinstance(value, list):
        value = ",".join(str(item) for item in value)
    if not isinstance(value, str):
        raise ValueError(f"must be a comma-separated list of {what}")
    return list(dict.fromkeys(item.strip() for item in value.split(",") if item.strip()))


class InvoiceSettings(TenantSettings):
    """The query of AUTOMATIC jobs, as the Emporix `invoiceSettings` configuration value."""

    KIND = "invoice"
    threshold: str = Field(
        description="Hours after an order's deliveryDate before an AUTOMATIC job takes it. A number is accepted too.",
        examples=["24"],
    )
    status: str = Field(
        description="Comma-separated order statuses that AUTOMATIC jobs take.", examples=["CREATED,CONFIRMED"]
    )
    extendedOrderStatus: str | None = Field(
        default=None,
        description="Comma-separated extended order statuses; when set, only orders with one of them are taken.",
        examples=["70,75,76"],
    )
    schedule: str | None = Field(
        default=None,
        description="Extension: a cron expression (minute hour day-of-month month day-of-week) in `timeZone`; "
        "the worker starts an AUTOMATIC job at each due time, once (a time missed while no worker ran: once "
        "when one is back).",
        examples=["0 2 * * *"],
    )
    timeZone: str | None = Field(
        default=None,
        description="Extension: the IANA time zone the schedule is read in (DST included); UTC when absent.",
        examples=["Europe/Berlin"],
    )

    def is_scheduled(self) -> bool:
        return self.schedule is not None

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        expression = " ".join(value.split())
        # Five fields, as croniter reads them (its six-field form with seconds is not offered).
        if len(expression.split()) != 5 or not croniter.is_valid(expression):
            raise ValueError(
                f"must be a cron expression of 5 fields (minute hour day-of-month month day-of-week), "
                f'e.g. "0 2 * * *"; got {value!r}'
            )
        try:
            croniter(expression, datetime.now(UTC), max_years_between_matches=SCHEDULE_HORIZON_YEARS).get_next(datetime)
        except CroniterBadDateError:
            raise ValueError(
                f"never fires (no such day in the {SCHEDULE_HORIZON_YEARS} years to come, e.g. 31 February); "
                f"got {value!r}"
            ) from None
        return expression

    @field_validator("timeZone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'must be an IANA time zone such as "Europe/Berlin"; got {value!r}') from None
        return value

    @field_validator("threshold", mode="before")
    @classmethod
    def _hours(cls, value: object) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise ValueError('must be a number of hours, e.g. "24"')
        try:
            hours = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f'must be a number of hours, e.g. "24"; got {value!r}') from None
        if not hours.is_finite() or hours < 0 or hours > MAX_THRESHOLD_HOURS:
            raise ValueError(f"must be between 0 and {MAX_THRESHOLD_HOURS} hours; got {value!r}")
        return format(hours.normalize(), "f")

    @field_validator("status", mode="before")
    @classmethod
    def _statuses(cls, value: object) -> str:
        statuses = _comma_separated(value, "order statuses")
        if not statuses:
            raise ValueError("must name at least one order status")
        allowed = [status.value for status in OrderStatus]
        unknown = [status for status in statuses if status not in allowed]
        if unknown:
            raise ValueError(f"unknown order status {', '.join(unknown)}; allowed: {', '.join(allowed)}")
        return ",".join(statuses)

    @field_validator("extendedOrderStatus", mode="before")
    @classmethod
    def _extended_statuses(cls, value: object) -> str | None:
        if value is None:
            return None
        return ",".join(_comma_separated(value, "extended order statuses")) or None


class SequenceSettings(TenantSettings):
    """The invoice number format, as the Emporix sequence schema: preText "INV__num__" with 4 digits
    from 1000 gives INV1000, INV1001, ..."""

    KIND = "sequence"
    preText: str = Field(
        max_length=64,
        description=f"The number's text; {NUMBER_PLACEHOLDER} stands for the counter.",
        examples=["INV__num__"],
    )
    numberOfDigits: int = Field(ge=1, le=18, description="The counter is padded with zeros to this width.")
    startValue: int = Field(ge=0, le=MAX_SEQUENCE_VALUE, description="The first counter value.")
    maxValue: int = Field(
        ge=0, le=MAX_SEQUENCE_VALUE, description="The last counter value; past it, invoicing fails, never wraps."
    )

    @field_validator("preText")
    @classmethod
    def _placeholder(cls, value: str) -> str:
        if value.count(NUMBER_PLACEHOLDER) != 1:
            raise ValueError(f"must contain the placeholder {NUMBER_PLACEHOLDER} exactly once; got {value!r}")
        if any(not character.isprintable() for character in value):
            raise ValueError("must not contain control characters")
        return value

    @model_validator(mode="after")
    def _range(self) -> "SequenceSettings":
        if self.maxValue < self.startValue:
            raise ValueError(f"maxValue ({self.maxValue}) must not be below startValue ({self.startValue})")
        return self


class CreditNoteSequenceSettings(SequenceSettings):
    """The credit-note number format: the same schema as invoice numbers, a sequence of its own
    (default CN-__num__, 6 digits, from 1)."""

    KIND = "credit-note-sequence"


class SellerAddress(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    street: Text
    zipCode: Text
    city: Text
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code", examples=["DE"])
    state: Text | None = None


def iban_checksum_ok(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, remainder mod 97 is 1."""
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(character, 36)) for character in rearranged)) % 97 == 1


class BankAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    accountHolder: Text
    iban: str = Field(description="Spaces allowed; stored without them.", examples=["DE89 3704 0044 0532 0130 00"])
    bic: str | None = Field(default=None, pattern=r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
    bankName: Text | None = None

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        iban = value.replace(" ", "").upper()
        if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", iban) or not iban_checksum_ok(iban):
            raise ValueError(f"{value!r} is not a valid IBAN")
        return iban


class SellerSettings(TenantSettings):
    """What the invoice says about the seller, and the document's language and locale."""

    KIND = "seller"
    legalName: Text
    address: SellerAddress
    vatId: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=20)] | None = None
    taxNumber: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=30)] | None = None
    legalRegistrationId: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)] | None
    ) = Field(
        default=None,
        description="The seller's legal registration (BT-30), e.g. its commercial register entry "
        '"HRB 12345 B, Amtsgericht Charlottenburg". Printed on the invoice. An e-invoice identifies the '
        "seller by it or by vatId (EN 16931 BR-CO-26): a seller with a taxNumber and no vatId needs it.",
        examples=["HRB 12345 B"],
    )
    legalRegistrationScheme: str | None = Field(
        default=None,
        pattern=r"^[0-9]{4}$",
        description="The scheme of legalRegistrationId in e-invoices (BT-30-1, an ISO 6523 ICD), e.g. 0002 for a "
        "French SIREN (checked: nine digits, Luhn). A French seller (address country FR) whose legalRegistrationId "
        "is a SIREN gets 0002 without it.",
        examples=["0002"],
    )
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ()/-]{4,30}$")
    bank: BankAccount | None = Field(default=None, description="Printed on invoices that are not paid yet.")
    paymentTermsDays: int = Field(default=14, ge=0, le=365, description="Unpaid invoices are due this many days later.")
    footer: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None
    language: str = Field(
        default="en",
        description="The tenant's default language of invoices, credit notes and their emails (BCP 47): one with "
        "a message catalog (en, de, fr, it, es, nl, pl, pt, sv, da, fi, cs, ...). An order's `language` comes first.",
        examples=["de"],
    )
    locale: str = Field(
        default="en_GB", description="Locale of numbers, money and dates, e.g. de_DE or en-US.", examples=["de_DE"]
    )

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        language = supported_language(value)
        if language is None:
            available = ", ".join(sorted(available_languages()))
            raise ValueError(f"{value!r} is not a language with a catalog; use one of {available}")
        return language

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        try:
            return str(Locale.parse(value.replace("-", "_")))
        except (UnknownLocaleError, ValueError):
            raise ValueError(f"{value!r} is not a known locale; use a code such as de_DE or en_GB") from None

    @model_validator(mode="after")
    def _tax_identity(self) -> "SellerSettings":
        if not self.vatId and not self.taxNumber:
            raise ValueError("an invoice must show the seller's vatId or taxNumber: give at least one")
        if self.legalRegistrationScheme and not self.legalRegistrationId:
            raise ValueError("legalRegistrationScheme needs the legalRegistrationId it is the scheme of")
        registration = (self.legalRegistrationId or "").replace(" ", "")
        if self.legalRegistrationScheme == SCHEME_SIREN and not siren_ok(registration):
            raise ValueError(
                f"legalRegistrationId {self.legalRegistrationId!r} is no SIREN (scheme 0002): nine digits, Luhn"
            )
        return self


class LogoInfo(BaseModel):
    """What the API says about a stored logo; the image itself is GET .../settings/logo. It is the file
    the service stored: downscaled to fit the invoice's logo box at 300 dpi, without metadata."""

    mediaType: str
    width: int = Field(description="Pixels of the stored image, downscaled")
    height: int = Field(description="Pixels of the stored image, downscaled")
    size: int = Field(description="Bytes of the stored image")
    sha256: str = Field(description="Of the stored image; its ETag")


class ElectronicAddressSettings(BaseModel):
    """BT-34 and its scheme BT-34-1: a CEF EAS code, e.g. EM (e-mail), 0088 (GLN), 9930 (German VAT ID)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
    scheme: str = Field(
        default="EM", pattern=r"^(EM|[0-9]{4})$", description="CEF EAS code: EM or four digits", examples=["9930"]
    )


class EInvoiceSettings(TenantSettings):
    """What e-invoices (the Factur-X XML in every PDF, and the XML formats of .../invoices/{number}/xml)
    need beyond the seller settings. An invoice keeps the e-invoice settings it was made with."""

    KIND = "einvoice"
    profile: Literal["EN16931", "XRECHNUNG"] = Field(
        default="EN16931", description="Profile of the factur-x.xml embedded in every invoice PDF."
    )
    sellerElectronicAddress: ElectronicAddressSettings | None = Field(
        default=None, description="BT-34 Seller electronic address; XRechnung and Peppol need it."
    )
    contactName: Text | None = Field(default=None, description="BT-41 Seller contact point; XRechnung needs it.")
    contactPhone: str | None = Field(
        default=None, pattern=r"^\+?[0-9 ()/-]{4,30}$", description="BT-42; the seller's phone when not set."
    )
    contactEmail: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        max_length=254,
        description="BT-43; the seller's email when not set.",
    )
    buyerReferenceSource: Literal["orderId", "orderBuyerReference", "fixed", "none"] = Field(
        default="orderId",
        description="Where BT-10 Buyer reference (the Leitweg-ID) comes from: the order ID, the order's "
        "buyerReference field, the fixed value buyerReference, or none.",
    )
    buyerReference: Text | None = Field(default=None, description="BT-10 when buyerReferenceSource is fixed.")

    @model_validator(mode="after")
    def _fixed_reference(self) -> "EInvoiceSettings":
        if self.buyerReferenceSource == "fixed" and not self.buyerReference:
            raise ValueError("buyerReference is required when buyerReferenceSource is fixed")
        return self


# The placeholders a reminder's subject and body may use (invoicing/reminders.py fills them in).
REMINDER_PLACEHOLDERS = ("number", "amount_due", "due_date", "fee", "level", "seller", "buyer")
MAX_REMINDER_LEVELS = 10
MAX_REMINDER_DAYS = 3650


def _placeholders_known(text: str) -> str:
    try:
        text.format(**dict.fromkeys(REMINDER_PLACEHOLDERS, ""))
    except (KeyError, IndexError, ValueError) as error:
        known = ", ".join(f"{{{name}}}" for name in REMINDER_PLACEHOLDERS)
        raise ValueError(f"may use only the placeholders {known} (and {{{{ }}}} for braces); {error!r}") from None
    return text


class ReminderWording(BaseModel):
    """A level's subject and body in one language, replacing the catalog's default wording."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)] | None = None

    @field_validator("subject", "body")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        return None if value is None else _placeholders_known(value)


class ReminderLevel(BaseModel):
    """One reminder: sent `daysAfterDue` days after the invoice's due date while it is not paid or credited."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    daysAfterDue: int = Field(ge=1, le=MAX_REMINDER_DAYS, description="Days after the due date.", examples=[7])
    fee: str | None = Field(
        default=None,
        description="A late fee the reminder names, a decimal string in the invoice's currency.",
        examples=["5.00"],
    )
    wording: dict[str, ReminderWording] = Field(
        default_factory=dict,
        description="Subject/body overrides by BCP 47 language tag (a language with a catalog). Placeholders: "
        + ", ".join(f"{{{name}}}" for name in REMINDER_PLACEHOLDERS)
        + ". Without one, the catalog's wording in the invoice's language.",
        examples=[{"de": {"subject": "Zahlungserinnerung zu Rechnung {number}"}}],
    )

    @field_validator("fee", mode="before")
    @classmethod
    def _fee(cls, value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ValueError('must be a decimal string, e.g. "5.00"')
        try:
            fee = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f'must be a decimal string, e.g. "5.00"; got {value!r}') from None
        if not fee.is_finite() or fee < 0 or fee > Decimal(10**9) or fee != fee.quantize(Decimal("0.0001")):
            raise ValueError(f"must be between 0 and 1000000000 with at most 4 decimals; got {value!r}")
        return str(fee)

    @field_validator("wording")
    @classmethod
    def _languages(cls, value: dict[str, ReminderWording]) -> dict[str, ReminderWording]:
        wording: dict[str, ReminderWording] = {}
        for tag, words in value.items():
            language = supported_language(tag)
            if language is None:
                available = ", ".join(sorted(available_languages()))
                raise ValueError(f"{tag!r} is not a language with a catalog; use one of {available}")
            wording[language] = words
        return wording


class ReminderSettings(TenantSettings):
    """Overdue invoices and their reminders: the levels, each sent once per invoice."""

    KIND = "reminders"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "levels": [
                        {"daysAfterDue": 7},
                        {
                            "daysAfterDue": 21,
                            "fee": "5.00",
                            "wording": {
                                "de": {
                                    "subject": "Zweite Mahnung zu Rechnung {number}",
                                    "body": "Guten Tag {buyer},\n\nRechnung {number} über {amount_due} war am "
                                    "{due_date} fällig. Mahngebühr: {fee}.\n\n{seller}",
                                }
                            },
                        },
                    ]
                }
            ]
        }
    )
    levels: list[ReminderLevel] = Field(
        max_length=MAX_REMINDER_LEVELS,
        description="The reminder levels, by strictly increasing daysAfterDue; level 1 is the first.",
        examples=[[{"daysAfterDue": 7}, {"daysAfterDue": 21, "fee": "5.00"}]],
    )

    @field_validator("levels")
    @classmethod
    def _increasing(cls, levels: list[ReminderLevel]) -> list[ReminderLevel]:
        days = [level.daysAfterDue for level in levels]
        if any(later <= earlier for earlier, later in pairwise(days)):
            raise ValueError(f"daysAfterDue must be strictly increasing from level to level; got {days}")
        return levels


# Every settings concern with a model (the logo is a file of its own): the tenant's and each site's.
ALL_SETTINGS: tuple[type[TenantSettings], ...] = (
    InvoiceSettings,
    SequenceSettings,
    CreditNoteSequenceSettings,
    SellerSettings,
    EInvoiceSettings,
    ReminderSettings,
)
