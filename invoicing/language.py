"""The languages invoices are written in, and which one an invoice gets: Babel message catalogs under
`invoicing/locales/<lang>/LC_MESSAGES/invoice.po`, compiled to `.mo` by `make catalogs` (the install).

A language is available when its folder holds a catalog; English is the source language (the msgids)
and always available. `invoice_language` is the one place that picks the language of an invoice.
"""

from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent / "locales"  # package data: installed with the code
DOMAIN = "invoice"
SOURCE_LANGUAGE = "en"


@cache
def available_languages() -> frozenset[str]:
    """Every language with a catalog in `invoicing/locales/`, plus English (the source language)."""
    found = {path.parent.parent.name for path in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return frozenset({SOURCE_LANGUAGE, *found})


def _parse(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def supported_language(tag: str | None) -> str | None:
    """The available catalog for a BCP 47 tag, falling back from the most specific form
    (pt_BR, then pt); None when neither is available or the tag is not a language."""
    if not tag:
        return None
    locale = _parse(tag)
    if locale is None:
        return None
    available = available_languages()
    for candidate in (f"{locale.language}_{locale.territory}" if locale.territory else None, locale.language):
        if candidate and candidate in available:
            return candidate
    return None


def invoice_language(order_language: str | None, tenant_default: str | None) -> str:
    """The language an invoice is written in: the order's, else the tenant's default, each with its
    fallback (de-AT → de, pt-BR → pt), else English. For an order of a site with a seller of its own,
    `tenant_default` is that seller's language (the seller in force for the site: invoicing/sites.py)."""
    for tag in (order_language, tenant_default):
        language = supported_language(tag)
        if language is not None:
            return language
    return SOURCE_LANGUAGE


def invoice_locale(order_language: str | None, language: str, tenant_default: str, tenant_locale: str) -> str:
    """The Babel locale of the invoice's numbers, money and dates, which follow its language: the tenant's
    locale when the invoice is in the tenant's language (keeps en with de_DE), else the order's tag when it
    is of that language (pt-BR formats as in Brazil with the pt catalog), else the language itself."""
    if language == supported_language(tenant_default):
        return tenant_locale
    ordered = _parse(order_language) if order_language else None
    if ordered is not None and ordered.language == language.split("_")[0]:
        return str(ordered)
    return language


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of a language (`make catalogs`); English needs none (msgids are English)."""
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    mo = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo.is_file():
        raise FileNotFoundError(f"{mo} is missing: run `make catalogs` to compile the message catalogs")
    return Translations.load(str(LOCALES_DIR), [language], DOMAIN)


def N_(message: str) -> str:
    """Marks a message for `pybabel extract` where it is defined; it is translated where it is shown."""
    return message


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)
