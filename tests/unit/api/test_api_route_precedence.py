"""Route precedence (service/app.py ROUTERS): invoice numbers may hold '/' and end in anything, so the
`{invoiceNumber:path}` catch-all of GET one invoice must come after the `/pdf`, `/xml` and `/email`
routes of the same prefix, whichever module declares them. Each operation answers in its own words, so
the answer tells which one took the request (and with which number)."""

import pytest

from tests.api_fakes import FakeApi

NUMBERS = ["INV-000001", "INV/2026/000001", "2026/pdf", "INVpdf", "A/xml/email", "B/pdf/xml"]


@pytest.fixture(scope="module")
def api() -> FakeApi:
    return FakeApi.build()


@pytest.mark.parametrize("number", NUMBERS)
def test_pdf_is_the_signed_download_of_the_number_before_it(api: FakeApi, number: str) -> None:
    answer = api.http.get(f"/invoice/shop/invoices/{number}/pdf", params={"expires": 1, "signature": "x"})
    assert answer.status_code == 403  # the catch-all would answer 401: no token
    assert "Download link is invalid" in answer.json()["message"]


@pytest.mark.parametrize("number", NUMBERS)
def test_xml_is_the_einvoice_of_the_number_before_it(api: FakeApi, number: str) -> None:
    answer = api.http.get(f"/invoice/shop/invoices/{number}/xml", headers=api.token())
    assert answer.status_code == 404
    assert answer.json()["message"] == f"Invoice {number} not found for tenant shop"  # not f"{number}/xml"


@pytest.mark.parametrize("number", NUMBERS)
def test_email_is_the_resend_of_the_number_before_it(api: FakeApi, number: str) -> None:
    answer = api.http.post(f"/invoice/shop/invoices/{number}/email", headers=api.token())
    assert answer.status_code == 404  # the catch-all has no POST: 405
    assert answer.json()["message"] == f"Invoice {number} not found for tenant shop"


@pytest.mark.parametrize("number", [n for n in NUMBERS if not n.endswith(("/pdf", "/xml"))])
def test_anything_else_is_one_invoice_by_its_whole_number(api: FakeApi, number: str) -> None:
    answer = api.http.get(f"/invoice/shop/invoices/{number}", headers=api.token())
    assert answer.status_code == 404
    assert answer.json()["message"] == f"Invoice {number} not found for tenant shop"


def test_a_credit_notes_pdf_is_its_download(api: FakeApi) -> None:
    answer = api.http.get("/invoice/shop/credit-notes/CN/2026/pdf/pdf", params={"expires": 1, "signature": "x"})
    assert answer.status_code == 403
    assert "read the credit note again" in answer.json()["message"]


def test_a_number_ending_in_slash_pdf_is_read_as_the_pdf_of_the_number_before_it(api: FakeApi) -> None:
    """The one ambiguity, resolved by the order: GET .../2026/pdf is the download of invoice 2026."""
    answer = api.http.get("/invoice/shop/invoices/2026/pdf", headers=api.token())
    assert answer.status_code == 400  # the download's expires and signature are missing


@pytest.mark.parametrize("number", NUMBERS)
def test_credit_notes_is_the_credit_note_request_of_the_number_before_it(api: FakeApi, number: str) -> None:
    body = {"reason": "r", "wholeInvoice": True}
    answer = api.http.post(f"/invoice/shop/invoices/{number}/credit-notes", json=body, headers=api.token())
    assert answer.status_code == 404
    assert answer.json()["message"].startswith(f"Invoice {number} not found")
