"""Orders of several sites on the fakes: the order's siteCode picks the site's own settings (each concern
falling back to the tenant's), each site with a sequence of its own numbers on its own (invoices and credit
notes), a site without one shares the tenant's, and the invoice and credit note keep the siteCode."""

from decimal import Decimal

from schemas.settings import CreditNoteSequenceSettings, SellerSettings, SequenceSettings
from streams.email_documents import CreditNoteEmail, InvoiceEmail
from streams.emailing import email_document
from tests.unit.test_crediting import CreditWorld
from tests.unit.test_pipeline import TENANT
from tests.unit.test_site_settings import FRENCH, GERMAN


def sequence(pre: str) -> SequenceSettings:
    return SequenceSettings(preText=f"{pre}-__num__", numberOfDigits=3, startValue=1, maxValue=999)


async def sites_world() -> CreditWorld:
    world = CreditWorld()
    await world.tenant_settings.write(TENANT, SellerSettings.model_validate(GERMAN))
    await world.tenant_settings.write(TENANT, sequence("DE"))
    await world.tenant_settings.write(TENANT, sequence("AT"), site="at")
    await world.tenant_settings.write(TENANT, sequence("FR"), site="fr")
    await world.tenant_settings.write(TENANT, SellerSettings.model_validate(FRENCH), site="fr")
    await world.tenant_settings.write(
        TENANT, CreditNoteSequenceSettings(preText="AV-__num__", numberOfDigits=3, startValue=1, maxValue=999), "fr"
    )
    return world


async def number(world: CreditWorld, order_id: str, site: str | None) -> str:
    await world.add_order(order_id, **({"siteCode": site} if site else {}))
    result = await world.invoice(order_id)
    assert result.__class__.__name__ == "OrderInvoiced", result
    return result.invoiceNumber  # type: ignore[union-attr]


async def test_each_site_with_its_own_sequence_numbers_on_its_own_and_the_rest_share_the_tenants() -> None:
    world = await sites_world()
    plan = [("o1", "fr"), ("o2", "at"), ("o3", None), ("o4", "fr"), ("o5", "ch"), ("o6", "at"), ("o7", "fr")]
    numbers = {order_id: await number(world, order_id, site) for order_id, site in plan}
    assert numbers == {
        "o1": "FR-001",
        "o2": "AT-001",
        "o3": "DE-001",
        "o4": "FR-002",
        "o5": "DE-002",  # the site ch has no sequence of its own: the tenant's
        "o6": "AT-002",
        "o7": "FR-003",
    }
    for order_id, site in plan:
        record = await world.invoices.find(TENANT, order_id)
        assert record is not None and record.site_code == site
        assert record.sequence_scope == (site if site in ("fr", "at") else "")


async def test_an_order_of_a_site_is_issued_by_the_sites_seller_in_its_language() -> None:
    world = await sites_world()
    await number(world, "o1", "fr")
    await number(world, "o2", "at")
    french, austrian = await world.invoices.find(TENANT, "o1"), await world.invoices.find(TENANT, "o2")
    assert french is not None and austrian is not None
    assert french.invoice_document().seller.legal_name == "Müller France SAS"
    assert (french.language, french.invoice_document().seller.locale) == ("fr", "fr_FR")
    # The site at has a sequence of its own but no seller: the tenant's.
    assert austrian.invoice_document().seller.legal_name == "Müller GmbH" and austrian.language == "de"


async def test_credit_notes_take_the_invoices_sites_credit_note_sequence_or_the_tenants() -> None:
    world = await sites_world()
    french, austrian = await number(world, "o1", "fr"), await number(world, "o2", "at")
    note = await world.credit("n1", "o1", french, wholeInvoice=True)
    other = await world.credit("n2", "o2", austrian, wholeInvoice=True)
    assert note is not None and (note.number, note.site_code, note.sequence_scope) == ("AV-001", "fr", "fr")
    # The site at has no credit-note sequence of its own: the tenant's default one.
    assert other is not None and (other.number, other.site_code, other.sequence_scope) == ("CN-000001", "at", "")
    assert note.credit_document().totals.total == Decimal("58.76")


async def test_a_sites_documents_are_emailed_from_its_seller_also_when_sent_again() -> None:
    world = CreditWorld()
    await world.tenant_settings.write(TENANT, SellerSettings.model_validate({**GERMAN, "email": "rechnung@de.example"}))
    french = SellerSettings.model_validate({**FRENCH, "email": "factures@fr.example"})
    await world.tenant_settings.write(TENANT, french, site="fr")
    invoice_number = await number(world, "o1", "fr")
    await number(world, "o2", None)
    record = await world.invoices.find(TENANT, "o1")
    assert record is not None
    await email_document(InvoiceEmail(record, world.invoices), world.deps().email, resend=True)
    note = await world.credit("n1", "o1", invoice_number, wholeInvoice=True)
    assert note is not None
    await email_document(CreditNoteEmail(note, world.credit_notes), world.deps().email, resend=True)
    senders = [(mail.subject.split()[0], mail.sender) for mail in world.mailer.sent]
    assert senders == [
        ("Facture", "factures@fr.example"),  # the first send
        ("Rechnung", "rechnung@de.example"),  # the tenant's own order
        ("Facture", "factures@fr.example"),  # sent again: the seller read again, the site's
        ("Avoir", "factures@fr.example"),  # the credit note's first send
        ("Avoir", "factures@fr.example"),  # and sent again
    ]
