"""The complete invoice resource against the real services (issue 23, points 6 and 7): a net B2B order at
two rates and a gross B2C order read back with seller, buyer, language, due date, VAT breakdown and the
lines as the invoice shows them; a Polish order in PLN; a French seller's gross B2C invoice at 20, 10 and
5.5 % in French whose Factur-X passes Mustang with the French notes."""

import io
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from invoicing.einvoice import EInvoiceFormat
from tests.factories import order_event
from tests.fakes import SmtpSink
from tests.integration.flows import invoice_events, pdf_bytes
from tests.integration.test_einvoice import SELLER, gross_order, put_settings
from tests.integration.test_email import Publish, mails_to
from tests.support import WorkerProcess
from tests.validators import toolkit

pytestmark = pytest.mark.integration

B2B_CUSTOMER = {"name": "Jana Nováková", "company": "Káva s.r.o.", "vatId": "CZ12345678", "email": "jana@kava.example"}
SHIPPED_TO = {"street": "Lagerweg", "streetNumber": "7", "zipCode": "04109", "city": "Leipzig", "country": "DE"}
FRENCH_SELLER = {
    "legalName": "Café Lumière SAS",
    "address": {"street": "Rue du Faubourg Saint-Antoine 12", "zipCode": "75011", "city": "Paris", "country": "FR"},
    "vatId": "FR27552120222",
    "legalRegistrationId": "552 120 222",
    "email": "factures@cafe-lumiere.example",
    "bank": {"accountHolder": "Café Lumière SAS", "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPPXXX"},
    "language": "fr",
    "locale": "fr_FR",
}


def words(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


async def resource(api: httpx.AsyncClient, tenant: str, number: str) -> dict[str, Any]:
    response = await api.get(f"/invoice/{tenant}/invoices/{number}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def mustang_passes(pdf: bytes, folder: Path) -> None:
    path = folder / "invoice.pdf"
    path.write_bytes(pdf)
    verdict = toolkit.mustang(path)
    assert (verdict.pdf_valid, verdict.xml_valid, verdict.failed_rules) == (True, True, 0), verdict.report


async def test_the_resource_of_a_net_b2b_and_a_gross_b2c_invoice_is_complete(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tenant: str
) -> None:
    await put_settings(api, tenant, "seller", {**SELLER, "legalRegistrationId": "HRB 12345 B", "language": "de"})
    b2b = order_event(tenant, "b2b", shippingAddress=SHIPPED_TO)
    b2b["order"]["customer"] = B2B_CUSTOMER
    results = await invoice_events(api, publish_orders, stored_order, tenant, b2b, gross_order(tenant, "b2c"))
    assert {order_id: result["orderStatus"] for order_id, result in results.items()} == {
        "b2b": "SUCCESS",
        "b2c": "SUCCESS",
    }

    net = await resource(api, tenant, results["b2b"]["invoiceNumber"])
    seller = {
        "name": "Kaffee Kontor GmbH",
        "address": {"recipient": [], "street": "Musterstraße 1", "zipCode": "10115", "city": "Berlin", "country": "DE"},
        "vatId": "DE000000000",
        "legalRegistrationId": "HRB 12345 B",
        "email": "billing@kaffee.example",
        "phone": "+49 30 1234567",
    }
    assert net["seller"] == seller
    assert net["buyer"] == {
        "name": "Jana Nováková",
        "company": "Káva s.r.o.",
        "vatId": "CZ12345678",
        "email": "jana@kava.example",
        "billingAddress": {
            "recipient": [],
            "street": "Hauptstraße 5",
            "zipCode": "80331",
            "city": "München",
            "country": "DE",
        },
        "shippingAddress": {
            "recipient": [],
            "street": "Lagerweg 7",
            "zipCode": "04109",
            "city": "Leipzig",
            "country": "DE",
        },
    }
    assert net["language"] == "de" and net["pricesIncludeTax"] is False
    assert net["dueDate"] == net["payment"]["dueOn"] and net["dueDate"] > net["issuedAt"][:10]
    # 7 %: 5.00; 19 %: 2 x 19.99 + shipping 4.90 = 44.88, VAT 8.53
    assert net["vatBreakdown"] == [
        {"category": "S", "rate": "7", "base": "5.00", "tax": "0.35"},
        {"category": "S", "rate": "19", "base": "44.88", "tax": "8.53"},
    ]
    assert net["totals"] == {"net": "49.88", "tax": "8.88", "gross": "58.76"}
    lines = [(line["description"], line["unitPrice"], line["taxCategory"]) for line in net["lines"]]
    assert [(description, float(price), category) for description, price, category in lines] == [
        ("Espresso cup", 19.99, "S"),
        ("Coffee beans 250 g", 5.0, "S"),
    ]
    assert all("grossUnitPrice" not in line for line in net["lines"]) and "shippingGross" not in net

    gross = await resource(api, tenant, results["b2c"]["invoiceNumber"])
    assert gross["seller"] == seller
    assert gross["buyer"]["name"] == "Camille Martin" and gross["buyer"]["billingAddress"]["city"] == "Paris"
    assert "company" not in gross["buyer"] and "vatId" not in gross["buyer"]
    assert gross["pricesIncludeTax"] is True
    shown = [(line["grossUnitPrice"], line["gross"]) for line in gross["lines"]]
    assert [(float(price), amount) for price, amount in shown] == [
        (9.99, "29.97"),
        (4.99, "4.99"),
        (3.35, "6.70"),
        (12.5, "12.50"),
    ]
    assert gross["shippingGross"] == "4.90"
    # 20 %: 29.97 + 4.99 + 4.90 = 39.86 gross, VAT 6.64; 10 %: 12.50, VAT 1.14; 5.5 %: 6.70, VAT 0.35
    assert gross["vatBreakdown"] == [
        {"category": "S", "rate": "5.5", "base": "6.35", "tax": "0.35"},
        {"category": "S", "rate": "10", "base": "11.36", "tax": "1.14"},
        {"category": "S", "rate": "20", "base": "33.22", "tax": "6.64"},
    ]
    assert gross["totals"] == {"net": "50.93", "tax": "8.13", "gross": "59.06"}

    # The list items carry the same parts (from the same stored documents, no query per item).
    listed = (await api.get(f"/invoice/{tenant}/invoices")).json()["items"]
    by_number = {item["number"]: item for item in listed}
    for invoice in (net, gross):
        item = by_number[invoice["number"]]
        parts = ("seller", "buyer", "vatBreakdown", "dueDate", "pricesIncludeTax", "language")
        assert {part: item[part] for part in parts} == {part: invoice[part] for part in parts}


async def test_a_polish_order_in_pln_is_polish_with_zloty_amounts_and_a_valid_einvoice(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    tenant: str,
    tmp_path: Path,
) -> None:
    """23 % and 8 %: 2 x 49.99 + shipping 15.00 = 114.98 at 23 % (VAT 26.45), 30.00 at 8 % (VAT 2.40)."""
    entries = [
        {
            "id": "1",
            "product": {"name": "Kubek ceramiczny", "sku": "KUB-1"},
            "amount": 2,
            "unitPrice": 49.99,
            "taxRate": 23,
        },
        {
            "id": "2",
            "product": {"name": "Herbata zielona", "sku": "HER-1"},
            "amount": 1,
            "unitPrice": 30.00,
            "taxRate": 8,
        },
    ]
    event = order_event(tenant, "pl-1", sub_total="129.98", total="173.83", currency="PLN", entries=entries)
    event["order"].update(shipping={"amount": 15.00, "taxRate": 23}, language="pl-PL")
    event["order"]["customer"] = {"name": "Zażółć Gęślą", "email": f"{tenant}@klient.example"}
    event["order"]["billingAddress"] = {
        "street": "Piotrkowska",
        "streetNumber": "1",
        "zipCode": "90-001",
        "city": "Łódź",
        "country": "PL",
    }
    results = await invoice_events(api, publish_orders, stored_order, tenant, event)
    result = results["pl-1"]
    assert result["orderStatus"] == "SUCCESS", result

    pdf = await pdf_bytes(result["downloadLink"])
    text = words(pdf)
    for polish in ("Faktura", "Numer faktury", "Cena jedn.", "Zażółć Gęślą", "Łódź"):
        assert polish in text, text
    assert "VAT 8% od 30,00 zł 2,40 zł VAT 23% od 114,98 zł 26,45 zł Razem brutto (PLN) 173,83 zł" in text, text
    assert "Invoice" not in text.replace("Invoice Service", "")

    number = result["invoiceNumber"]
    body = await resource(api, tenant, number)
    assert (body["language"], body["currency"]) == ("pl", "PLN")
    assert [(row["rate"], row["base"], row["tax"]) for row in body["vatBreakdown"]] == [
        ("8", "30.00", "2.40"),
        ("23", "114.98", "26.45"),
    ]
    xml = await api.get(f"/invoice/{tenant}/invoices/{number}/xml", params={"format": "facturx"})
    assert xml.status_code == 200, xml.text
    assert toolkit.xml_problems(xml.content, EInvoiceFormat.FACTURX) == []
    assert b"<ram:InvoiceCurrencyCode>PLN</ram:InvoiceCurrencyCode>" in xml.content
    assert "bez potrąceń".encode() in xml.content  # BT-20 in Polish
    mustang_passes(pdf, tmp_path)


async def test_a_french_sellers_gross_b2c_invoice_is_french_and_its_factur_x_passes_mustang(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    smtp_sink: SmtpSink,
    tenant: str,
    tmp_path: Path,
) -> None:
    await put_settings(api, tenant, "seller", FRENCH_SELLER)
    event = gross_order(tenant, "fr-1")
    recipient = f"camille-{tenant}@paris.example"
    event["order"]["customer"]["email"] = recipient
    results = await invoice_events(api, publish_orders, stored_order, tenant, event)
    result = results["fr-1"]
    assert result["orderStatus"] == "SUCCESS", result
    number = result["invoiceNumber"]

    [mail] = await mails_to(smtp_sink, recipient)
    assert mail.message["Subject"] == f"Facture {number} de Café Lumière SAS"
    pdf = await pdf_bytes(result["downloadLink"])
    text = words(pdf)
    for french in ("Facture", "N° de facture", "Prix TTC", "Total TTC (EUR)", "59,06 €"):
        assert french in text, text

    path = tmp_path / "facture.pdf"
    path.write_bytes(pdf)
    xml = toolkit.embedded_xml(path)
    assert xml is not None
    assert b'<ram:ID schemeID="0002">552120222</ram:ID>' in xml
    for code in (b"PMT", b"PMD", b"AAB"):
        assert b"<ram:SubjectCode>" + code + b"</ram:SubjectCode>" in xml
    assert "Pas d'escompte pour paiement anticipé.".encode() in xml
    assert toolkit.xml_problems(xml, EInvoiceFormat.FACTURX) == []
    mustang_passes(pdf, tmp_path)

    body = await resource(api, tenant, number)
    assert body["language"] == "fr"
    assert (body["seller"]["legalRegistrationId"], body["seller"]["legalRegistrationScheme"]) == ("552 120 222", "0002")
    assert [row["rate"] for row in body["vatBreakdown"]] == ["5.5", "10", "20"]
