"""The complete invoice resource over the fakes (issue 23, point 6): seller, buyer, site, language, due
date, the VAT breakdown per category and rate, and the lines with the unit prices the invoice shows, in
GET one invoice and in the list items; credit notes in the lists leave them out."""

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from infra.records import ListedCreditNote, PageKey
from invoicing.einvoice import VatCategory, document_vat_breakdown
from tests.api_fakes import FakeApi
from tests.unit.api.test_api_invoices import issue
from tests.unit.test_rendering import document

URL = "/invoice/shop/invoices"
B2B_CUSTOMER = {"name": "Jana Nováková", "company": "Káva s.r.o.", "vatId": "CZ12345678", "email": "jana@kava.example"}
SHIPPED_TO = {"street": "Lagerweg", "streetNumber": "7", "zipCode": "04109", "city": "Leipzig", "country": "DE"}
SELLER = {"vat_id": "DE123456789", "legal_registration_id": "HRB 12345", "phone": "+49 30 1234567"}


def gross_order() -> dict[str, Any]:
    """A French consumer's order at gross prices: 20 % 3 x 9.99 + 4.99 + shipping 4.90, 5.5 % 2 x 3.35, 10 % 12.50."""
    entries = [
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
    return {
        "pricesIncludeTax": True,
        "entries": entries,
        "shipping": {"amount": 4.90, "taxRate": 20},
        "subTotalPrice": 54.16,
        "totalPrice": 59.06,
        "billingAddress": {
            "street": "Rue de Rivoli",
            "streetNumber": "1",
            "zipCode": "75001",
            "city": "Paris",
            "country": "FR",
        },
    }


async def detail(api: httpx.AsyncClient, number: str) -> dict[str, Any]:
    response = await api.get(f"{URL}/{number}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_net_b2b_invoice_names_seller_buyer_due_date_and_vat_per_rate(
    api: httpx.AsyncClient, fake: FakeApi
) -> None:
    await issue(fake, "INV-1", "o-1", customer=B2B_CUSTOMER, shippingAddress=SHIPPED_TO, seller=SELLER)
    body = await detail(api, "INV-1")
    assert body["seller"] == {
        "name": "Invoice Service Demo GmbH",
        "address": {"recipient": [], "street": "Musterstraße 1", "zipCode": "10115", "city": "Berlin", "country": "DE"},
        "vatId": "DE123456789",
        "legalRegistrationId": "HRB 12345",
        "email": "billing@example.com",
        "phone": "+49 30 1234567",
    }
    assert body["buyer"] == {
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
    # 7 %: 5.00; 19 %: 2 x 19.99 + shipping 4.90 = 44.88, VAT 8.53
    assert body["vatBreakdown"] == [
        {"category": "S", "rate": "7", "base": "5.00", "tax": "0.35"},
        {"category": "S", "rate": "19", "base": "44.88", "tax": "8.53"},
    ]
    assert body["totals"] == {"net": "49.88", "tax": "8.88", "gross": "58.76"}
    assert body["dueDate"] == "2026-12-09" == body["payment"]["dueOn"]  # 25 Nov + 14 days
    assert body["pricesIncludeTax"] is False and body["language"] == "en"
    assert "siteCode" not in body and "shippingGross" not in body  # no site; a net order
    assert [(line["unitPrice"], line["taxCategory"]) for line in body["lines"]] == [("19.99", "S"), ("5.0", "S")]
    assert all("grossUnitPrice" not in line and "gross" not in line for line in body["lines"])

    # The list item carries the same, read from the same stored document.
    [item] = (await api.get(URL)).json()["items"]
    assert {key: item[key] for key in ("seller", "buyer", "vatBreakdown", "dueDate")} == {
        key: body[key] for key in ("seller", "buyer", "vatBreakdown", "dueDate")
    }
    assert "lines" not in item


async def test_a_gross_invoice_shows_its_gross_unit_prices_and_the_vat_within_each_rate(
    api: httpx.AsyncClient, fake: FakeApi
) -> None:
    await issue(fake, "INV-2", "o-2", customer={"name": "Camille Martin"}, **gross_order())
    body = await detail(api, "INV-2")
    assert body["pricesIncludeTax"] is True
    lines = [(line["grossUnitPrice"], line["gross"], line["taxRate"]) for line in body["lines"]]
    assert lines == [("9.99", "29.97", "20"), ("4.99", "4.99", "20"), ("3.35", "6.70", "5.5"), ("12.5", "12.50", "10")]
    assert body["shippingGross"] == "4.90"
    # 20 %: 39.86 gross, VAT 6.64; 10 %: 12.50, VAT 1.14; 5.5 %: 6.70, VAT 0.35
    assert body["vatBreakdown"] == [
        {"category": "S", "rate": "5.5", "base": "6.35", "tax": "0.35"},
        {"category": "S", "rate": "10", "base": "11.36", "tax": "1.14"},
        {"category": "S", "rate": "20", "base": "33.22", "tax": "6.64"},
    ]
    assert body["totals"] == {"net": "50.93", "tax": "8.13", "gross": "59.06"}
    assert body["buyer"]["billingAddress"]["country"] == "FR" and "company" not in body["buyer"]


async def test_the_site_of_the_invoice_is_the_one_stored_with_it(api: httpx.AsyncClient, fake: FakeApi) -> None:
    record = await issue(fake, "INV-3", "o-3")
    assert record.site_code is None and "siteCode" not in await detail(api, "INV-3")
    stored = dataclasses.replace(record, site_code="fr-shop")
    fake.invoices.records[stored.record_id] = stored
    assert (await detail(api, "INV-3"))["siteCode"] == "fr-shop"


async def test_a_paid_invoice_has_no_due_date(api: httpx.AsyncClient, fake: FakeApi) -> None:
    await issue(fake, "INV-4", "o-4", payments=[{"method": "card", "status": "CAPTURED"}])
    body = await detail(api, "INV-4")
    assert "dueDate" not in body and body["payment"]["paid"] is True


async def test_credit_notes_in_the_list_leave_the_invoice_parts_out(api: httpx.AsyncClient, fake: FakeApi) -> None:
    await issue(fake, "INV-5", "o-5")
    at = datetime(2026, 12, 1, tzinfo=UTC)
    fake.invoices.credit_notes.append(
        ListedCreditNote(
            key=PageKey(at, "cn-1"),
            tenant="shop",
            number="CN-1",
            invoice_number="INV-5",
            order_id="o-5",
            issued_at=at,
            currency="EUR",
            net=Decimal("19.99"),
            tax=Decimal("3.80"),
            gross=Decimal("23.79"),
            storage_key=None,
        )
    )
    [note] = (await api.get(URL, params={"type": "credit-note"})).json()["items"]
    assert note["number"] == "CN-1"
    assert not {"seller", "buyer", "vatBreakdown", "dueDate", "siteCode"} & set(note)


def test_the_breakdown_keeps_categories_apart_and_merges_rows_of_one_category() -> None:
    """Reverse charge at 0 % and an explicit Z line beside a derived Z line: two rows, each with its reason."""
    entries = [
        {"id": "1", "product": {"name": "Service"}, "amount": 1, "unitPrice": 10, "taxRate": 0, "taxCategory": "AE"},
        {"id": "2", "product": {"name": "Book"}, "amount": 1, "unitPrice": 5, "taxRate": 0, "taxCategory": "Z"},
        {"id": "3", "product": {"name": "Map"}, "amount": 1, "unitPrice": 3, "taxRate": 0},
    ]
    made = document(entries=entries, shipping=None, subTotalPrice=18, totalPrice=18)
    rows = [
        (row.vat.category, row.vat.rate, row.base, row.tax, row.vat.exemption_reason_code)
        for row in document_vat_breakdown(made)
    ]
    assert rows == [
        (VatCategory.REVERSE_CHARGE, Decimal(0), Decimal(10), Decimal(0), "VATEX-EU-AE"),
        (VatCategory.ZERO_RATED, Decimal(0), Decimal(8), Decimal(0), None),
    ]
