"""The invoice in the order's language end to end: a German tenant's French order gets a French PDF and a
French email, and so does the email sent again; an Italian order's credit note is Italian; a language
without a catalog falls back."""

import io
import re
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from infra.settings import Settings
from tests.factories import order_event
from tests.fakes import SmtpSink
from tests.integration.flows import invoice_events
from tests.integration.test_credit_notes import credit, stored_pdf_text
from tests.integration.test_email import Publish, mails_to, order_for
from tests.support import WorkerProcess, wait_for

pytestmark = pytest.mark.integration


async def test_a_french_order_of_a_german_tenant_is_invoiced_and_emailed_in_french(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    smtp_sink: SmtpSink,
    tenant: str,
) -> None:
    seller = {
        "legalName": "Kaffeerösterei Müller GmbH",
        "address": {"street": "Hauptstraße 1", "zipCode": "10115", "city": "Berlin", "country": "DE"},
        "vatId": "DE123456789",
        "language": "de",
        "locale": "de_DE",
    }
    response = await api.put(f"/invoice/{tenant}/settings/seller", json=seller)
    assert response.status_code == 200, response.text
    recipient = f"{tenant}@customer.example"
    event = order_for(tenant, "o-fr")
    event["order"]["language"] = "fr-FR"

    results = await invoice_events(api, publish_orders, stored_order, tenant, event)
    number = results["o-fr"]["invoiceNumber"]
    [mail] = await mails_to(smtp_sink, recipient)
    assert mail.message["Subject"] == f"Facture {number} de Kaffeerösterei Müller GmbH"
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None and "Bonjour Erika Mustermann" in body.get_content()
    [(filename, pdf)] = mail.attachments()
    assert filename == f"Facture-{number}.pdf"
    text = re.sub(r"\s+", " ", PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert "N° de facture" in text and "TVA" in text and "Rechnung" not in text

    # Sent again, the invoice keeps the language it was issued in.
    response = await api.post(f"/invoice/{tenant}/invoices/{number}/email")
    assert response.status_code == 202, response.text
    _, again = await mails_to(smtp_sink, recipient, count=2)
    assert again.message["Subject"] == mail.message["Subject"]
    resource = await api.get(f"/invoice/{tenant}/invoices/{number}")
    assert resource.status_code == 200, resource.text
    assert resource.json()["language"] == "fr"


async def test_an_italian_order_gets_an_italian_credit_note_and_an_unknown_language_falls_back(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    mongo_db: Any,
    settings: Settings,
    smtp_sink: SmtpSink,
    tenant: str,
) -> None:
    italian = order_event(tenant, "o-it", customer="Mario Rossi")
    # An address of this test's own: the session's mail sink holds every test's mail, and other tenants'
    # first credit notes carry the same number.
    italian["order"]["customer"]["email"] = f"mario.rossi-{tenant}@example.com"
    italian["order"]["language"] = "it-IT"
    unknown = order_event(tenant, "o-xx", customer="Nobody Known")
    unknown["order"]["language"] = "xx"
    brazilian = order_event(tenant, "o-br", customer="Ana Souza")
    brazilian["order"]["language"] = "pt-BR"
    results = await invoice_events(api, publish_orders, stored_order, tenant, italian, unknown, brazilian)
    languages = {
        order_id: (await api.get(f"/invoice/{tenant}/invoices/{result['invoiceNumber']}")).json()["language"]
        for order_id, result in results.items()
    }
    assert languages == {"o-it": "it", "o-xx": "en", "o-br": "pt"}  # xx: the tenant's default, English

    done = await credit(api, tenant, results["o-it"]["invoiceNumber"], {"reason": "Reso", "wholeInvoice": True})
    assert done["status"] == "DONE", done
    text = re.sub(r"\s+", " ", await stored_pdf_text(settings, mongo_db, done["creditNoteId"]))
    assert "Nota di credito" in text and f"Rettifica la fattura {results['o-it']['invoiceNumber']}" in text

    async def emailed() -> list[Any]:
        return [
            mail
            for mail in smtp_sink.mails_to(f"mario.rossi-{tenant}@example.com")
            if done["creditNoteNumber"] in mail.message["Subject"]
        ]

    [mail] = await wait_for(emailed, timeout=30, what="the credit note's email")
    assert mail.message["Subject"].startswith(f"Nota di credito {done['creditNoteNumber']} da ")
