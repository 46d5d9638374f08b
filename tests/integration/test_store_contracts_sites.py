"""The store contracts of sites (tests/integration/store_contracts.py: the MongoDB adapters and their fakes
alike): a site's own settings beside the tenant's in one snapshot, and sequences per scope for invoices and
credit notes, unique and marked on their own, with the siteCode kept and filtered by."""

from decimal import Decimal
from typing import Any

import pytest

from infra.records import InvoiceFilter, NumberInUse, NumberTaken, RefundState, RefundStatus
from invoicing.logo import check_logo
from schemas.settings import InvoiceSettings, SequenceSettings
from tests.integration.store_contracts import Stores, document
from tests.integration.test_store_contracts_invoices import png

pytestmark = pytest.mark.integration


async def test_a_sites_settings_come_with_the_tenants_in_one_snapshot(stores: Stores, tenant: str) -> None:
    settings = stores.tenant_settings
    own = SequenceSettings(preText="T__num__", numberOfDigits=4, startValue=1, maxValue=9999)
    site = SequenceSettings(preText="FR__num__", numberOfDigits=4, startValue=1, maxValue=9999)
    await settings.write(tenant, own)
    await settings.write(tenant, site, "fr")
    await settings.write(tenant, InvoiceSettings(threshold="1", status="COMPLETED", schedule="0 2 * * *"), "fr")
    assert await settings.read(tenant, SequenceSettings) == own
    assert await settings.read(tenant, SequenceSettings, "fr") == site
    assert await settings.read(tenant, InvoiceSettings) is None
    assert [scheduled.tenant for scheduled in await settings.scheduled() if scheduled.tenant == tenant] == []
    of_site, of_tenant, of_other = (
        await settings.read_all(tenant, "fr"), await settings.read_all(tenant), await settings.read_all(tenant, "at")
    )  # fmt: skip
    assert (of_site.get(SequenceSettings), of_site.sequence_scope(SequenceSettings)) == (site, "fr")
    assert (of_tenant.get(SequenceSettings), of_tenant.sequence_scope(SequenceSettings)) == (own, "")
    assert (of_other.get(SequenceSettings), of_other.sequence_scope(SequenceSettings)) == (own, "")
    assert of_tenant.get(InvoiceSettings) is None and of_site.get(InvoiceSettings) is not None
    if stores.raw_db is not None:  # the store itself leaves other sites' documents out of the one query
        query = {"tenant": tenant, "site": {"$in": [None, "at"]}}
        assert sorted(doc["_id"] for doc in await stores.raw_db.tenant_settings.find(query).to_list()) == [
            f"{tenant}:sequence"
        ]

    logo = check_logo(png())
    info = await settings.put_logo(tenant, logo, "fr")
    assert await settings.current_logo(tenant, "fr") == info and await settings.current_logo(tenant) is None
    assert (await settings.read_all(tenant, "fr")).logo == info and (await settings.read_all(tenant)).logo is None
    assert await settings.logo_content(tenant, logo.sha256) == logo.content
    assert await settings.delete_logo(tenant, "fr") and not await settings.delete_logo(tenant, "fr")


async def test_invoice_sequences_are_unique_per_scope_and_keep_the_site(stores: Stores, tenant: str) -> None:
    invoices = stores.invoices

    async def allocate(order_id: str, seq: int, number: str, site: str | None, scope: str) -> Any:
        return await invoices.allocate(
            tenant=tenant, order_id=order_id, job_id="j", seq=seq, number=number,
            document=document(tenant, order_id, number), site_code=site, scope=scope,
        )  # fmt: skip

    tenants = await allocate("o-1", 1, "T1", None, "")
    french = await allocate("o-2", 1, "FR1", "fr", "fr")  # the same value in another scope
    shared = await allocate("o-3", 2, "T2", "ch", "")  # a site on the tenant's sequence
    assert (french.seq, french.site_code, french.sequence_scope) == (1, "fr", "fr")
    assert (shared.site_code, shared.sequence_scope, tenants.site_code) == ("ch", "", None)
    with pytest.raises(NumberTaken):
        await allocate("o-4", 1, "FR1b", "fr", "fr")
    with pytest.raises(NumberInUse):
        await allocate("o-4", 2, "T1", "fr", "fr")  # numbers stay unique per tenant as strings
    assert (await invoices.last_seq(tenant), await invoices.last_seq(tenant, "fr")) == (2, 2)
    assert await invoices.last_seq(tenant, "at") is None
    for record in (tenants, french, shared):
        await invoices.mark_issued(record, f"{tenant}/{record.number}.pdf")
    listed = await invoices.issued_invoices(tenant, InvoiceFilter(site_code="fr"), None, 10)
    assert [invoice.record.number for invoice in listed] == ["FR1"]
    assert await invoices.issued_invoices(tenant, InvoiceFilter(site_code="at"), None, 10) == []


async def test_credit_note_sequences_are_unique_per_scope(stores: Stores, tenant: str) -> None:
    notes = stores.credit_notes
    refund = RefundState(RefundStatus.PENDING, Decimal("58.76"))

    async def allocate(note: str, invoice: str, seq: int, site: str | None, scope: str) -> Any:
        return await notes.allocate(
            tenant=tenant, note_id=f"{tenant}-{note}", order_id=f"o-{note}", invoice_number=invoice, ordinal=1,
            seq=seq, number=f"{scope or 'CN'}-{seq}", reason="r", document=document(tenant, "o", f"CN-{seq}"),
            logo_sha256=None, refund=refund, site_code=site, scope=scope,
        )  # fmt: skip

    tenants, french = await allocate("a", "I1", 1, None, ""), await allocate("b", "I2", 1, "fr", "fr")
    assert (french.site_code, french.sequence_scope, tenants.sequence_scope) == ("fr", "fr", "")
    with pytest.raises(NumberTaken):
        await allocate("c", "I3", 1, "fr", "fr")
    assert (await notes.last_seq(tenant), await notes.last_seq(tenant, "fr")) == (1, 1)
