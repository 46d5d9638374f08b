"""Several issuers per tenant against the real services: two sites with sequences of their own beside a
site without one (which shares the tenant's) in one job, each site's numbers gap-free and unique; the list
filtered by site and an AUTOMATIC job limited to one site on FerretDB's indexes; and a French site of a
German tenant issuing a B2C order with gross prices at 20, 10 and 5.5 %: French PDF and email from the
site's seller, valid Factur-X (veraPDF, Mustang)."""

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.db import ensure_indexes
from infra.mapping import order_selection
from infra.orders import selection_queries
from schemas.settings import InvoiceSettings
from tests.factories import order_event
from tests.fakes import SmtpSink
from tests.integration.flows import create_job, finished_job, invoice_events, pdf_bytes, stored
from tests.integration.test_automatic_jobs import assert_selection_served_by_index
from tests.integration.test_einvoice import EINVOICE, SELLER, Publish, gross_order, pdf_text
from tests.integration.test_email import mails_to
from tests.integration.test_invoice_lists import other_tenants_invoices, served_by_index
from tests.support import WorkerProcess
from tests.validators import toolkit

pytestmark = pytest.mark.integration

FRENCH_SELLER = {
    "legalName": "Kaffee Kontor France SAS",
    "address": {"street": "12 rue de Rivoli", "zipCode": "75001", "city": "Paris", "country": "FR"},
    "vatId": "FR40303265045",
    "legalRegistrationId": "303265045",  # the SIREN (BT-30, scheme 0002) that Mustang's BR-FR-10 wants
    "email": "facturation@kaffee.example",
    "phone": "+33 1 23 45 67 89",
    "bank": {"accountHolder": "Kaffee Kontor France SAS", "iban": "FR14 2004 1010 0505 0001 3M02 606"},
    "language": "fr",
    "locale": "fr_FR",
}
FRENCH_EINVOICE = {
    **EINVOICE,
    "sellerElectronicAddress": {"value": "FR40303265045", "scheme": "9957"},
    "contactName": "Camille Dubois",
    "contactPhone": "+33 1 23 45 67 89",
    "contactEmail": "facturation@kaffee.example",
}
COMPLETED = {"status": "COMPLETED"}


def sequence(pre: str) -> dict[str, Any]:
    return {"preText": f"{pre}-__num__", "numberOfDigits": 4, "startValue": 1, "maxValue": 9999}


async def put(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> None:
    response = await api.put(path, json=body)
    assert response.status_code == 200, response.text


def site_order(tenant: str, order_id: str, site: str | None) -> dict[str, Any]:
    event = order_event(tenant, order_id)
    if site is not None:
        event["order"]["siteCode"] = site
    return event


async def listed(api: httpx.AsyncClient, tenant: str, **params: str) -> list[str]:
    response = await api.get(f"/invoice/{tenant}/invoices", params={"limit": "100", **params})
    assert response.status_code == 200, response.text
    return sorted(item["number"] for item in response.json()["items"])


async def test_two_sites_sequences_side_by_side_and_a_third_site_on_the_tenants(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tenant: str
) -> None:
    await put(api, f"/invoice/{tenant}/settings/sequence", sequence("T"))
    await put(api, f"/invoice/{tenant}/sites/aa/settings/sequence", sequence("AA"))
    await put(api, f"/invoice/{tenant}/sites/bb/settings/sequence", sequence("BB"))
    # Interleaved in one job, so the worker's actors number the sites' orders at the same time.
    plan = [(f"o{i}", site) for i, site in enumerate(["aa", "bb", "cc", "aa", None, "bb", "aa", "cc", "bb", "aa"])]
    results = await invoice_events(
        api, publish_orders, stored_order, tenant, *(site_order(tenant, order_id, site) for order_id, site in plan)
    )
    assert all(result["orderStatus"] == "SUCCESS" for result in results.values()), results
    numbers: dict[str | None, list[str]] = {}
    for order_id, site in plan:
        numbers.setdefault(site if site in ("aa", "bb") else None, []).append(results[order_id]["invoiceNumber"])
    # Each sequence gap-free from its start and unique; cc (no sequence of its own) shares the tenant's.
    assert sorted(numbers["aa"]) == ["AA-0001", "AA-0002", "AA-0003", "AA-0004"]
    assert sorted(numbers["bb"]) == ["BB-0001", "BB-0002", "BB-0003"]
    assert sorted(numbers[None]) == ["T-0001", "T-0002", "T-0003"]

    # The list by site, on the siteCode index.
    assert await listed(api, tenant, siteCode="aa") == sorted(numbers["aa"])
    assert len(await listed(api, tenant, siteCode="cc")) == 2
    assert await listed(api, tenant, siteCode="zz") == []

    # An AUTOMATIC job limited to the site bb takes only bb's due orders, numbered on in bb's sequence.
    await put(api, f"/invoice/{tenant}/settings/invoice", {"threshold": "24", "status": "COMPLETED"})
    later = [("n1", "bb"), ("n2", "aa"), ("n3", "bb"), ("n4", None)]
    await publish_orders(tenant, *(site_order(tenant, order_id, site) for order_id, site in later))
    await stored(stored_order, tenant, *(order_id for order_id, _ in later))
    response = await api.post(f"/invoice/{tenant}/jobs/invoices", json={"jobType": "AUTOMATIC", "siteCode": "bb"})
    assert response.status_code == 201, response.text
    job = await finished_job(api, tenant, response.json()["jobId"])
    assert sorted((order["orderId"], order["invoiceNumber"][:3]) for order in job["orders"]) == [
        ("n1", "BB-"),
        ("n3", "BB-"),
    ], job
    assert sorted(order["invoiceNumber"] for order in job["orders"]) == ["BB-0004", "BB-0005"]
    # The tenant's own AUTOMATIC job then takes the rest (the earlier orders are invoiced already).
    rest = await finished_job(api, tenant, await create_job(api, tenant))
    assert sorted(order["orderId"] for order in rest["orders"]) == ["n2", "n4"], rest


async def test_a_french_site_of_a_german_tenant_issues_in_french_with_valid_factur_x(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> None:
    tenant = "t" + uuid.uuid4().hex[:12]
    await put(api, f"/invoice/{tenant}/settings/seller", {**SELLER, "language": "de", "locale": "de_DE"})
    await put(api, f"/invoice/{tenant}/settings/einvoice", EINVOICE)
    await put(api, f"/invoice/{tenant}/sites/fr/settings/seller", FRENCH_SELLER)
    await put(api, f"/invoice/{tenant}/sites/fr/settings/einvoice", FRENCH_EINVOICE)
    await put(api, f"/invoice/{tenant}/sites/fr/settings/sequence", sequence("FR"))
    event = gross_order(tenant, "fr-b2c")  # 20, 10 and 5.5 %, prices including VAT, to a consumer in Paris
    event["order"]["siteCode"] = "fr"
    recipient = f"camille-{tenant}@paris.example"
    event["order"]["customer"]["email"] = recipient
    german = order_event(tenant, "de-1")  # the tenant's own order beside it stays German

    results = await invoice_events(api, publish_orders, stored_order, tenant, event, german)
    assert results["fr-b2c"]["orderStatus"] == "SUCCESS", results
    number = results["fr-b2c"]["invoiceNumber"]
    assert number == "FR-0001"
    path = tmp_path / "fr.pdf"
    path.write_bytes(await pdf_bytes(results["fr-b2c"]["downloadLink"]))
    text = re.sub(r"\s+", " ", pdf_text(path))
    assert "Kaffee Kontor France SAS" in text and "Kaffee Kontor GmbH" not in text, text
    assert "N° de facture" in text and "TVA" in text and "Rechnung" not in text, text
    assert "20 %" in text and "10 %" in text and "5,5 %" in text, text  # French number formats

    [mail] = await mails_to(smtp_sink, recipient)
    assert mail.message["Subject"] == f"Facture {number} de Kaffee Kontor France SAS"
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None and "Bonjour Camille Martin" in body.get_content()
    [(filename, _)] = mail.attachments()
    assert filename == f"Facture-{number}.pdf"

    resource = await api.get(f"/invoice/{tenant}/invoices/{number}")
    assert resource.status_code == 200 and resource.json()["language"] == "fr", resource.text
    german_resource = await api.get(f"/invoice/{tenant}/invoices/{results['de-1']['invoiceNumber']}")
    assert german_resource.json()["language"] == "de"

    assert toolkit.verapdf([path]) == {path: []}
    verdict = toolkit.mustang(path)
    assert (verdict.pdf_valid, verdict.xml_valid) == (True, True), verdict.report
    # Every rule passes, Mustang's French ones (BR-FR: the PMT/PMD/AAB legal notes, the SIREN) too.
    assert verdict.failed_rules == 0, verdict.report


async def test_the_site_queries_are_served_by_the_indexes(mongo_db: Any, run_id: str) -> None:
    """In a database of the test's own, among other tenants' documents of other sites: the site's list
    queries (invoices, credit notes) and the site's AUTOMATIC selection are index lookups; the same list
    check fails without the indexes, so it can tell one from the other."""
    db = mongo_db.client[f"site-plans-{run_id}"]
    try:
        await ensure_indexes(db)
        documents = [{**doc, "siteCode": f"s{i % 7}"} for i, doc in enumerate(other_tenants_invoices(3000))]
        for collection in ("invoices", "credit_notes", "unindexed"):
            await db[collection].insert_many(documents, ordered=False)
        listing = {"tenant": "t", "siteCode": "fr", "issuedAt": {"$gte": datetime(1970, 1, 1, tzinfo=UTC)}}
        assert await served_by_index(db, "invoices", listing) == []
        assert await served_by_index(db, "credit_notes", listing) == []
        assert await served_by_index(db, "unindexed", listing) != []

        await db.orders.insert_many(
            [
                {"_id": f"t:o{i}", "tenant": "t", "siteCode": f"s{i % 7}", "awaitingInvoice": True, **COMPLETED}
                for i in range(3000)
            ],
            ordered=False,
        )
        selection = order_selection(InvoiceSettings(threshold="24", status="COMPLETED,SHIPPED"), "fr")
        queries = selection_queries("t", selection, selection.delivered_before(datetime.now(UTC)))
        assert len(queries) == 2 and all(query["siteCode"] == "fr" for query in queries)
        for query in queries:
            await assert_selection_served_by_index(
                db, query, "tenant_1_siteCode_1_awaitingInvoice_1_status_1_deliveredAt_1"
            )
    finally:
        await mongo_db.client.drop_database(f"site-plans-{run_id}")
