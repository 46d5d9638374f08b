"""E-invoices end to end: a real worker issues Factur-X PDF/A-3b invoices, checked by the real validators
(veraPDF, Mustang); the XML endpoint's four formats against XSD and Schematron; settings/einvoice.

The slow validators run once per file set: the PDFs of one job are collected and veraPDF checks them
in one call, Mustang once per PDF (two at a time)."""

import io
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest
from pypdf import PdfReader

from invoicing.einvoice import EInvoiceFormat
from tests.factories import order_event
from tests.integration.flows import invoice_events, pdf_bytes
from tests.support import WorkerProcess
from tests.validators import toolkit

pytestmark = pytest.mark.integration

Publish = Callable[..., Awaitable[None]]

SELLER = {
    "legalName": "Kaffee Kontor GmbH",
    "address": {"street": "Musterstraße 1", "zipCode": "10115", "city": "Berlin", "country": "DE"},
    "vatId": "DE000000000",
    "email": "billing@kaffee.example",
    "phone": "+49 30 1234567",
    "bank": {"accountHolder": "Kaffee Kontor GmbH", "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX"},
}
EINVOICE = {
    "profile": "EN16931",
    "sellerElectronicAddress": {"value": "DE000000000", "scheme": "9930"},
    "contactName": "Erika Beispiel",
    "contactPhone": "+49 30 1234567",
    "contactEmail": "billing@kaffee.example",
    "buyerReferenceSource": "orderId",
}
FR_COMPANY = {"name": "Jean Dupont", "company": "Conseil Lyon SAS", "vatId": "FR40303265045", "email": "j@lyon.example"}
FR_ADDRESS = {
    "street": "Rue de la République",
    "streetNumber": "10",
    "zipCode": "69001",
    "city": "Lyon",
    "country": "FR",
}


def reverse_charge_order(tenant: str, order_id: str) -> dict[str, Any]:
    """The standard order's lines and shipping at 0 % under reverse charge (AE), to a French company:
    subtotal 2 x 19.99 + 5.00 = 44.98, shipping 4.90, no VAT, total 49.88."""
    event = order_event(tenant, order_id, sub_total="44.98", total="49.88")
    order = event["order"]
    for entry in order["entries"]:
        entry.update(taxRate=0, taxCategory="AE")
    order["shipping"] = {"amount": 4.90, "taxRate": 0, "taxCategory": "AE"}
    order["customer"] = FR_COMPANY
    order["billingAddress"] = FR_ADDRESS
    return event


JP_CUSTOMER = {"name": "山田太郎", "company": "株式会社ヤマダ", "email": "taro@yamada.example"}
JP_ADDRESS = {
    "street": "渋谷区神南一丁目",
    "streetNumber": "2-3",
    "zipCode": "150-0041",
    "city": "東京都",
    "country": "JP",
}


def japanese_order(tenant: str, order_id: str) -> dict[str, Any]:
    """The standard order to a Japanese buyer, name and address in kanji and katakana (Noto Sans CJK JP)."""
    event = order_event(tenant, order_id)
    event["order"]["customer"] = JP_CUSTOMER
    event["order"]["billingAddress"] = JP_ADDRESS
    return event


def peppol_order(tenant: str, order_id: str) -> dict[str, Any]:
    event = order_event(tenant, order_id)
    event["order"]["customer"] = {
        "name": "Max Muster",
        "company": "Muster Behörde",
        "email": "rechnung@behoerde.example",
        "peppolId": "9930:DE111111125",
    }
    return event


def gross_order(tenant: str, order_id: str) -> dict[str, Any]:
    """A B2C order to a French consumer stating gross prices (pricesIncludeTax) at 20, 10 and 5.5 %:
    lines 29.97 + 4.99 (20 %), 6.70 (5.5 %), 12.50 (10 %) = 54.16 gross, shipping 4.90 at 20 %, total 59.06."""
    event = order_event(tenant, order_id, sub_total="54.16", total="59.06")
    order = event["order"]
    order["pricesIncludeTax"] = True
    order["entries"] = [
        {
            "id": str(i),
            "product": {"name": name, "sku": f"FR-{i}"},
            "amount": amount,
            "unitPrice": price,
            "taxRate": rate,
        }
        for i, (name, amount, price, rate) in enumerate(
            [("Tasse", 3, 9.99, 20), ("Soucoupe", 1, 4.99, 20), ("Confiture", 2, 3.35, 5.5), ("Repas", 1, 12.50, 10)],
            start=1,
        )
    ]
    order["shipping"] = {"amount": 4.90, "taxRate": 20}
    order["customer"] = {"name": "Camille Martin", "email": "camille@paris.example"}
    order["billingAddress"] = {**FR_ADDRESS, "city": "Paris", "zipCode": "75001"}
    return event


@dataclass(frozen=True)
class IssuedJob:
    tenant: str
    results: dict[str, dict[str, Any]]
    pdfs: dict[str, Path]


async def put_settings(api: httpx.AsyncClient, tenant: str, kind: str, body: dict[str, Any]) -> None:
    response = await api.put(f"/invoice/{tenant}/settings/{kind}", json=body)
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
async def issued(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tmp_path_factory: Any
) -> IssuedJob:
    """One tenant with seller and e-invoice settings, one job of a standard, a reverse charge, a Peppol and
    a Japanese buyer's and a gross-priced order; their PDFs downloaded through the job's links."""
    tenant = "t" + uuid.uuid4().hex[:12]
    await put_settings(api, tenant, "seller", SELLER)
    await put_settings(api, tenant, "einvoice", EINVOICE)
    results = await invoice_events(
        api,
        publish_orders,
        stored_order,
        tenant,
        order_event(tenant, "standard"),
        reverse_charge_order(tenant, "reverse-charge"),
        peppol_order(tenant, "peppol"),
        japanese_order(tenant, "japanese"),
        gross_order(tenant, "gross"),
    )
    folder = tmp_path_factory.mktemp("einvoice-pdfs")
    pdfs = {}
    for order_id, result in results.items():
        assert result["orderStatus"] == "SUCCESS", result
        pdfs[order_id] = folder / f"{order_id}.pdf"
        pdfs[order_id].write_bytes(await pdf_bytes(result["downloadLink"]))
    return IssuedJob(tenant, results, pdfs)


def test_every_pdf_of_a_job_is_factur_x_pdf_a_3b(issued: IssuedJob) -> None:
    paths = list(issued.pdfs.values())
    failures = toolkit.verapdf(paths)
    assert failures == {path: [] for path in paths}
    verdicts = toolkit.mustang_all(paths)
    for order_id, verdict in ((order_id, verdicts[path]) for order_id, path in issued.pdfs.items()):
        assert (verdict.pdf_valid, verdict.xml_valid, verdict.failed_rules) == (True, True, 0), (
            order_id,
            verdict.report,
        )


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages)


def _path_and_query(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


async def test_the_xml_link_gives_the_embedded_xml_without_a_token(api: httpx.AsyncClient, issued: IssuedJob) -> None:
    for order_id, pdf in issued.pdfs.items():
        link = issued.results[order_id]["xmlLink"]
        # An explicit empty Authorization: the test client adds no token, the signed link alone must do.
        response = await api.get(_path_and_query(link), headers={"Authorization": ""})
        assert response.status_code == 200, (link, response.text)
        assert response.headers["content-type"].startswith("application/xml")
        assert response.content == toolkit.embedded_xml(pdf)
        tampered = await api.get(
            _path_and_query(link).replace("signature=", "signature=0"), headers={"Authorization": ""}
        )
        assert tampered.status_code == 403, tampered.text
        pdf_signature = urlsplit(issued.results[order_id]["downloadLink"]).query
        assert "signature=" in link and pdf_signature not in link


@pytest.mark.parametrize("fmt", list(EInvoiceFormat), ids=str)
async def test_the_xml_endpoint_gives_valid_xml_in_every_format(
    api: httpx.AsyncClient, issued: IssuedJob, fmt: EInvoiceFormat
) -> None:
    number = issued.results["peppol"]["invoiceNumber"]
    response = await api.get(f"/invoice/{issued.tenant}/invoices/{number}/xml", params={"format": fmt.value})
    assert response.status_code == 200, response.text
    assert toolkit.xml_problems(response.content, fmt) == []
    assert number.encode() in response.content


async def test_a_japanese_buyers_name_and_address_come_back_out_of_the_pdf_and_the_xml(
    api: httpx.AsyncClient, issued: IssuedJob
) -> None:
    text = pdf_text(issued.pdfs["japanese"])
    strings = ["山田太郎", "株式会社ヤマダ", "渋谷区神南一丁目 2-3", "150-0041 東京都"]
    for string in strings:
        assert string in text, text
    xml = toolkit.embedded_xml(issued.pdfs["japanese"])
    assert xml is not None
    for string in ("山田太郎", "株式会社ヤマダ", "渋谷区神南一丁目", "東京都"):
        assert string.encode() in xml


async def test_reverse_charge_prints_its_legal_note_and_validates(api: httpx.AsyncClient, issued: IssuedJob) -> None:
    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(issued.pdfs["reverse-charge"].read_bytes())).pages
    )
    assert "Reverse charge" in text, text
    assert "Reverse charge" not in "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(issued.pdfs["standard"].read_bytes())).pages
    )
    xml = toolkit.embedded_xml(issued.pdfs["reverse-charge"])
    assert xml is not None and b"<ram:CategoryCode>AE</ram:CategoryCode>" in xml
    number = issued.results["reverse-charge"]["invoiceNumber"]
    ubl = await api.get(f"/invoice/{issued.tenant}/invoices/{number}/xml", params={"format": "xrechnung-ubl"})
    assert ubl.status_code == 200, ubl.text
    assert toolkit.xml_problems(ubl.content, EInvoiceFormat.XRECHNUNG_UBL) == []


# A consumer has no Peppol participant ID (Peppol is B2B); the gross Peppol XML is in tests/validators' cases.
@pytest.mark.parametrize("fmt", [fmt for fmt in EInvoiceFormat if fmt is not EInvoiceFormat.PEPPOL], ids=str)
async def test_a_gross_order_shows_its_gross_prices_and_validates_in_every_format(
    api: httpx.AsyncClient, issued: IssuedJob, fmt: EInvoiceFormat
) -> None:
    # The order's gross totals passed the total check (SUCCESS); the job's PDF/A and Mustang test covers its PDF.
    text = " ".join(pdf_text(issued.pdfs["gross"]).split())
    assert "Gross price" in text and "€9.99" in text and "€29.97" in text, text
    # 20 %: 34.96 + 4.90 = 39.86 gross, VAT 6.64, net 33.22
    assert "VAT 20% on €33.22 €6.64" in text and "Gross at 20% €39.86" in text, text
    number = issued.results["gross"]["invoiceNumber"]
    response = await api.get(f"/invoice/{issued.tenant}/invoices/{number}/xml", params={"format": fmt.value})
    assert response.status_code == 200, response.text
    assert toolkit.xml_problems(response.content, fmt) == []


async def test_peppol_without_a_seller_electronic_address_is_refused_naming_bt_34(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tenant: str
) -> None:
    await put_settings(api, tenant, "seller", SELLER)  # no settings/einvoice: no BT-34
    results = await invoice_events(api, publish_orders, stored_order, tenant, peppol_order(tenant, "o-1"))
    assert results["o-1"]["orderStatus"] == "SUCCESS", results  # Factur-X EN 16931 needs no BT-34
    number = results["o-1"]["invoiceNumber"]
    response = await api.get(f"/invoice/{tenant}/invoices/{number}/xml", params={"format": "peppol"})
    assert response.status_code == 409, response.text
    body = response.json()
    assert "BT-34" in body["message"] and body["code"] == "409"
    facturx = await api.get(f"/invoice/{tenant}/invoices/{number}/xml")
    assert facturx.status_code == 200, facturx.text


async def test_a_profile_the_settings_cannot_fill_fails_the_order_naming_the_terms_and_uses_no_number(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tenant: str
) -> None:
    await put_settings(api, tenant, "seller", {**SELLER, "phone": None})
    await put_settings(api, tenant, "einvoice", {"profile": "XRECHNUNG"})  # no BT-34, no contact
    results = await invoice_events(api, publish_orders, stored_order, tenant, order_event(tenant, "o-1"))
    failed = results["o-1"]
    assert failed["orderStatus"] == "FAILURE", failed
    for term in ("BT-34", "BT-41", "BT-42"):
        assert term in failed["message"], failed["message"]
    # The settings fixed, the same order takes the first number of the sequence: none was used up.
    await put_settings(api, tenant, "einvoice", EINVOICE | {"profile": "XRECHNUNG"})
    again = await invoice_events(api, publish_orders, stored_order, tenant, order_event(tenant, "o-1"))
    assert again["o-1"]["orderStatus"] == "SUCCESS", again
    assert again["o-1"]["invoiceNumber"] == "INV-000001"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"profile": "ZUGFERD"}, "profile"),
        ({"sellerElectronicAddress": {"value": "x", "scheme": "email"}}, "sellerElectronicAddress.scheme"),
        ({"buyerReferenceSource": "fixed"}, "buyerReference"),
        ({"contactEmail": "not-an-address"}, "contactEmail"),
        ({"unknown": 1}, "unknown"),
    ],
)
async def test_bad_einvoice_settings_are_400_naming_the_field(
    api: httpx.AsyncClient, tenant: str, body: dict[str, Any], field: str
) -> None:
    response = await api.put(f"/invoice/{tenant}/settings/einvoice", json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert field in error["message"] + (error.get("detailInfo") or ""), error
    assert (await api.get(f"/invoice/{tenant}/settings/einvoice")).status_code == 404


async def test_einvoice_settings_are_read_as_written(api: httpx.AsyncClient, tenant: str) -> None:
    await put_settings(api, tenant, "einvoice", EINVOICE)
    response = await api.get(f"/invoice/{tenant}/settings/einvoice")
    assert response.status_code == 200
    assert response.json() == EINVOICE


async def test_any_invoice_number_downloads_as_xml_with_its_name_in_filename_star(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tenant: str
) -> None:
    """A number format with a character outside Latin-1, a quote and a backslash: the XML downloads
    (was a 500: Content-Disposition built from the raw number), named in full per RFC 6266."""
    sequence = {"preText": 'R€-"\\__num__', "numberOfDigits": 3, "startValue": 1, "maxValue": 999}
    for concern, body in (("seller", SELLER), ("einvoice", EINVOICE), ("sequence", sequence)):
        assert (await api.put(f"/invoice/{tenant}/settings/{concern}", json=body)).status_code == 200
    results = await invoice_events(api, publish_orders, stored_order, tenant, order_event(tenant, "o-euro"))
    result = results["o-euro"]
    assert result["orderStatus"] == "SUCCESS", result
    number = result["invoiceNumber"]
    assert number == 'R€-"\\001'
    link = urlsplit(result["xmlLink"])
    for response in (
        await api.get(f"{link.path}?{link.query}"),  # the signed link
        await api.get(f"/invoice/{tenant}/invoices/{quote(number, safe='')}/xml"),  # with a token
    ):
        assert response.status_code == 200, response.text
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="R-_001-facturx.xml"; ')
        assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == f"{number}-facturx.xml".replace("/", "_")
