"""Money arithmetic: Decimal only, rounded half-up to the currency's minor unit."""

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision

ZERO = Decimal(0)


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of a currency: 0.01 for EUR, 1 for JPY, 0.001 for KWD (ISO 4217 via CLDR)."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)
