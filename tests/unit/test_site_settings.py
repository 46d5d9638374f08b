"""Several issuers per tenant: a site's own settings over the tenant's, per concern (invoicing/sites.py),
as the settings store's fake hands them out in one snapshot."""

from typing import Any

import pytest

from invoicing.logo import Logo
from invoicing.sites import TENANT_SCOPE, is_site_code, settings_key, site_over_tenant
from schemas.settings import (
    CreditNoteSequenceSettings,
    EInvoiceSettings,
    InvoiceSettings,
    SellerSettings,
    SequenceSettings,
    TenantSettings,
)
from tests.memory import MemoryTenantSettings

GERMAN = {
    "legalName": "Müller GmbH",
    "address": {"street": "Hauptstraße 1", "zipCode": "10115", "city": "Berlin", "country": "DE"},
    "vatId": "DE123456789",
    "language": "de",
    "locale": "de_DE",
}
FRENCH = {
    "legalName": "Müller France SAS",
    "address": {"street": "1 rue de Rivoli", "zipCode": "75001", "city": "Paris", "country": "FR"},
    "vatId": "FR40303265045",
    "language": "fr",
    "locale": "fr_FR",
}


def logo(content: bytes) -> Logo:
    return Logo(content=content, media_type="image/png", width=1, height=1)


TENANT_LOGO, SITE_LOGO = logo(b"tenant"), logo(b"site")


async def tenant_with_everything() -> MemoryTenantSettings:
    store = MemoryTenantSettings()
    await store.write("shop", SellerSettings.model_validate(GERMAN))
    await store.write("shop", SequenceSettings(preText="DE-__num__", numberOfDigits=4, startValue=1, maxValue=9999))
    await store.write(
        "shop", CreditNoteSequenceSettings(preText="GS-__num__", numberOfDigits=4, startValue=1, maxValue=9999)
    )
    await store.write("shop", EInvoiceSettings(profile="EN16931"))
    await store.write("shop", InvoiceSettings(threshold="24", status="COMPLETED"))
    await store.put_logo("shop", TENANT_LOGO)
    return store


async def test_a_site_without_settings_of_its_own_has_the_tenants() -> None:
    store = await tenant_with_everything()
    tenant, site = await store.read_all("shop"), await store.read_all("shop", "fr")
    for model in (SellerSettings, SequenceSettings, CreditNoteSequenceSettings, EInvoiceSettings, InvoiceSettings):
        assert site.get(model) == tenant.get(model) is not None, model.KIND
    assert site.logo == tenant.logo is not None
    assert site.sequence_scope(SequenceSettings) == site.sequence_scope(CreditNoteSequenceSettings) == TENANT_SCOPE


@pytest.mark.parametrize(
    "own",
    [
        SellerSettings.model_validate(FRENCH),
        SequenceSettings(preText="FR-__num__", numberOfDigits=4, startValue=1, maxValue=9999),
        CreditNoteSequenceSettings(preText="AV-__num__", numberOfDigits=4, startValue=1, maxValue=9999),
        EInvoiceSettings(profile="XRECHNUNG"),
        InvoiceSettings(threshold="48", status="SHIPPED"),
    ],
    ids=lambda own: own.KIND,
)
async def test_each_concern_of_a_site_replaces_the_tenants_and_only_that_one(own: TenantSettings) -> None:
    store = await tenant_with_everything()
    await store.write("shop", own, site="fr")
    tenant, site = await store.read_all("shop"), await store.read_all("shop", "fr")
    for model in (SellerSettings, SequenceSettings, CreditNoteSequenceSettings, EInvoiceSettings, InvoiceSettings):
        expected = own if isinstance(own, model) and type(own) is model else tenant.get(model)
        assert site.get(model) == expected, model.KIND
    assert site.logo == tenant.logo
    # The tenant's own settings, another site's and a read without a site never see the site's.
    assert (await store.read_all("shop", "at")).get(type(own)) == tenant.get(type(own)) != own
    assert await store.read("shop", type(own), site="fr") == own


async def test_the_site_seller_brings_its_language_and_locale() -> None:
    store = await tenant_with_everything()
    await store.write("shop", SellerSettings.model_validate(FRENCH), site="fr")
    seller = (await store.read_all("shop", "fr")).get(SellerSettings)
    assert seller is not None and (seller.legalName, seller.language, seller.locale) == (
        "Müller France SAS",
        "fr",
        "fr_FR",
    )


async def test_a_sites_logo_replaces_the_tenants_and_deleting_it_falls_back() -> None:
    store = await tenant_with_everything()
    await store.put_logo("shop", SITE_LOGO, site="fr")
    site = await store.read_all("shop", "fr")
    assert site.logo is not None and site.logo.sha256 == SITE_LOGO.sha256
    assert (await store.current_logo("shop")).sha256 == TENANT_LOGO.sha256  # type: ignore[union-attr]
    assert await store.delete_logo("shop", site="fr")
    assert not await store.delete_logo("shop", site="fr")
    assert (await store.read_all("shop", "fr")).logo == (await store.read_all("shop")).logo


async def test_a_site_with_its_own_sequence_numbers_in_a_scope_of_its_own() -> None:
    store = await tenant_with_everything()
    await store.write(
        "shop", SequenceSettings(preText="FR-__num__", numberOfDigits=4, startValue=1, maxValue=9999), site="fr"
    )
    site = await store.read_all("shop", "fr")
    assert site.sequence_scope(SequenceSettings) == "fr"
    assert site.sequence_scope(CreditNoteSequenceSettings) == TENANT_SCOPE  # no credit-note sequence of its own
    assert (await store.read_all("shop")).sequence_scope(SequenceSettings) == TENANT_SCOPE


async def test_site_invoice_settings_never_schedule_a_job() -> None:
    store = MemoryTenantSettings()
    await store.write("shop", InvoiceSettings(threshold="1", status="COMPLETED", schedule="0 2 * * *"), site="fr")
    assert await store.scheduled() == []


def test_site_over_tenant_takes_each_concern_whole() -> None:
    tenant: dict[str, dict[str, Any]] = {
        "seller": {"legalName": "A", "bank": {"iban": "X"}},
        "sequence": {"preText": "A"},
    }
    site: dict[str, dict[str, Any]] = {"seller": {"legalName": "B"}}
    assert site_over_tenant(tenant, site) == {"seller": {"legalName": "B"}, "sequence": {"preText": "A"}}
    assert site_over_tenant(tenant, {}) == tenant


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("fr", True),
        ("DE-main_1.b", True),
        ("x" * 64, True),
        ("", False),
        ("x" * 65, False),
        ("a:b", False),
        ("-a", False),
        ("a b", False),
        ("ä", False),
    ],
)
def test_site_codes(code: str, valid: bool) -> None:
    assert is_site_code(code) is valid


def test_site_settings_keys_never_meet_the_tenants() -> None:
    assert settings_key("shop", None, "seller") == "shop:seller"
    assert settings_key("shop", "fr", "seller") == "shop:fr:seller"
