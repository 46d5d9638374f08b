"""EN 16931 VAT categories (UNTDID 5305 subset): which one a line or the shipping falls under, and why.

An order may name the category itself (S, Z, E, AE, K, G, O) with an exemption reason; otherwise it is
derived from the rate and where the goods go:

    rate > 0                                                        -> S  standard rated
    rate 0, delivered outside the EU                                -> G  export (free export item)
    rate 0, delivered to another EU country, buyer has a VAT ID     -> K  intra-Community supply
    rate 0 otherwise                                                -> Z  zero rated

Where the goods go is the delivery country (the shipping address, else the billing address): the
export and intra-Community exemptions are about goods leaving the seller's country, and for a buyer
who lives in one country and ships to another the delivery country decides.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from invoicing.language import N_, gettext

# The 27 member states in 2026, as ISO 3166-1 alpha-2 (Greece is GR here, EL only in VIES).
# Territories outside the EU VAT area (Canary Islands, Åland, Büsingen, ...) share their country's code
# and cannot be told apart by country alone: an order for them names its category (G) explicitly.
EU_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip


class VatCategory(StrEnum):
    STANDARD = "S"
    ZERO_RATED = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_COMMUNITY = "K"
    EXPORT = "G"
    NOT_SUBJECT = "O"


# Categories that must state why no VAT is charged (BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10),
# with the VATEX code (CEF VATEX list) and the legal note printed on the invoice. E has no default:
# which exemption applies (medical, financial, small business, ...) only the order can say.
# The legal notes of the categories without VAT, in the invoice's language: the msgids are the English
# wording of the message catalogs (`invoicing/locales/`), which name each country's own law.
_DEFAULT_EXEMPTIONS: dict[VatCategory, tuple[str, str]] = {
    VatCategory.REVERSE_CHARGE: (
        "VATEX-EU-AE",
        N_("Reverse charge: VAT is due from the recipient (Art. 196 Directive 2006/112/EC)"),
    ),
    VatCategory.INTRA_COMMUNITY: (
        "VATEX-EU-IC",
        N_("Tax-exempt intra-Community supply (Art. 138 Directive 2006/112/EC)"),
    ),
    VatCategory.EXPORT: ("VATEX-EU-G", N_("Tax-exempt export outside the EU (Art. 146 Directive 2006/112/EC)")),
    VatCategory.NOT_SUBJECT: ("VATEX-EU-O", N_("Not subject to VAT")),
}

NEEDS_EXEMPTION_REASON = frozenset(
    {
        VatCategory.EXEMPT,
        VatCategory.REVERSE_CHARGE,
        VatCategory.INTRA_COMMUNITY,
        VatCategory.EXPORT,
        VatCategory.NOT_SUBJECT,
    }
)


class InvalidVatCategory(ValueError):
    """An explicit category that cannot go with the line's rate (S needs a rate above 0, the others 0)."""


class MissingExemptionReason(ValueError):
    """Category E without a reason: BT-120/BT-121 cannot be derived."""


@dataclass(frozen=True)
class TaxCategoryChoice:
    """What an order may say about a line's or the shipping's VAT (the order contract's taxCategory and
    taxExemptionReason); the code is a VATEX code (BT-121), the reason free text (BT-120)."""

    category: VatCategory
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


@dataclass(frozen=True)
class VatTreatment:
    """A line's or charge's VAT as EN 16931 states it: BT-151/152 (line), BT-102/103 (charge), and for
    the breakdown row it falls into BT-118, BT-119, BT-120, BT-121."""

    category: VatCategory
    rate: Decimal
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


def derived_category(
    rate: Decimal, *, seller_country: str, delivery_country: str, buyer_vat_id: str | None
) -> VatCategory:
    if rate > 0:
        return VatCategory.STANDARD
    if delivery_country not in EU_COUNTRIES:
        return VatCategory.EXPORT
    if delivery_country != seller_country and buyer_vat_id:
        return VatCategory.INTRA_COMMUNITY
    return VatCategory.ZERO_RATED


def vat_treatment(
    rate: Decimal,
    explicit: TaxCategoryChoice | None,
    *,
    seller_country: str,
    delivery_country: str,
    buyer_vat_id: str | None,
    language: str = "en",
) -> VatTreatment:
    """The category (the explicit one, else derived) with the rate and, where the category needs one,
    the exemption reason: the explicit one, else the category's VATEX code and legal note."""
    if explicit is not None:
        category = explicit.category
        if (category is VatCategory.STANDARD) != (rate > 0):
            raise InvalidVatCategory(
                f"VAT category {category.value} cannot have the rate {rate} %: "
                + ("S needs a rate above 0" if category is VatCategory.STANDARD else "only S has a rate above 0")
            )
    else:
        category = derived_category(
            rate, seller_country=seller_country, delivery_country=delivery_country, buyer_vat_id=buyer_vat_id
        )
    if category not in NEEDS_EXEMPTION_REASON:
        # BR-S-10, BR-Z-10: a standard or zero rated line states no exemption reason.
        return VatTreatment(category, rate)
    reason = explicit.exemption_reason if explicit else None
    code = explicit.exemption_reason_code if explicit else None
    if reason is None and code is None:
        if category not in _DEFAULT_EXEMPTIONS:
            raise MissingExemptionReason(
                f"VAT category {category.value} needs an exemption reason (BT-120 text or BT-121 VATEX code)"
            )
        code, note = _DEFAULT_EXEMPTIONS[category]
        reason = gettext(language, note)
    return VatTreatment(category, rate, reason, code)


def legal_note(treatment: VatTreatment) -> str | None:
    """What the invoice PDF prints for a category without VAT: its exemption reason (or VATEX code)."""
    if treatment.category not in NEEDS_EXEMPTION_REASON:
        return None
    return treatment.exemption_reason or treatment.exemption_reason_code
