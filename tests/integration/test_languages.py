"""The invoice in the order's language end to end: a German tenant's French order gets a French PDF and a
French email, and so does the email sent again."""

import io
import re
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from tests.fakes import SmtpSink
from tests.integration.flows import invoice_events
from tests.integration.test_email import Publish, mails_to, order_for
from tests.support import WorkerProcess

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
