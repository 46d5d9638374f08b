"""Credit notes end to end: asked for through the API, made by the worker (over-credit checked as it
numbers), rendered, stored, refunded through the gateway and emailed; what is credited shows on the
invoice. Figures of the standard order (tests/factories.py), worked out by hand:

entry 1: 2 x 19.99 at 19 %, entry 2: 1 x 5.00 at 7 %, shipping 4.90 at 19 %; total 58.76.
- 1 of entry 1:                 net 19.99, tax 19.99 x 0.19 = 3.7981 -> 3.80,          gross 23.79
- the last of entry 1 + shipping: net 19.99 + 4.90 = 24.89, tax 4.7291 -> 4.73,         gross 29.62
- entry 2 (the last of all):   net 5.00, tax 0.35,                                      gross  5.35
  together 23.79 + 29.62 + 5.35 = 58.76, the invoice's total.
"""

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pikepdf
import pytest
from lxml import etree
from pypdf import PdfReader

from infra.captures import PaymentCaptures
from infra.credit_notes import CreditNoteRepository
from infra.invoices import InvoiceRepository
from infra.links import LinkSigner
from infra.mail import Mailer
from infra.payments import PaymentGateway
from infra.records import CreditRaced, RefundState, RefundStatus
from infra.settings import Settings
from infra.storage import S3Storage, open_storage
from infra.tenant_settings import TenantSettingsRepository
from invoicing.document import DEFAULT_SELLER, build_invoice_document
from invoicing.recalculation import recalculate
from schemas.events import CreditedLine, CreditNoteRequested
from schemas.orders import parse_order_event
from streams.crediting import CreditDeps, CreditRefused, number_credit_note
from streams.emailing import EmailDeps
from tests.factories import encoded, order_event
from tests.fakes import FakePaymentGateway, SmtpSink
from tests.integration.flows import create_job, finished_job, invoice_events, pdf_bytes
from tests.support import WorkerProcess, wait_for

pytestmark = pytest.mark.integration

Publish = Callable[..., Awaitable[None]]


async def invoiced(
    api: httpx.AsyncClient, publish_orders: Publish, stored_order: Any, tenant: str, order_id: str, **fields: Any
) -> str:
    results = await invoice_events(api, publish_orders, stored_order, tenant, order_event(tenant, order_id, **fields))
    assert results[order_id]["orderStatus"] == "SUCCESS", results
    number: str = results[order_id]["invoiceNumber"]
    return number


async def ask_credit(api: httpx.AsyncClient, tenant: str, number: str, body: dict[str, Any]) -> httpx.Response:
    return await api.post(f"/invoice/{tenant}/invoices/{number}/credit-notes", json=body)


async def finished_credit(api: httpx.AsyncClient, tenant: str, credit_note_id: str) -> dict[str, Any]:
    async def finished() -> dict[str, Any] | None:
        response = await api.get(f"/invoice/{tenant}/credit-notes/{credit_note_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["status"] != "IN_PROGRESS" else None

    return await wait_for(finished, timeout=90, what=f"credit note {credit_note_id} to finish")


async def credit(api: httpx.AsyncClient, tenant: str, number: str, body: dict[str, Any]) -> dict[str, Any]:
    accepted = await ask_credit(api, tenant, number, body)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "IN_PROGRESS"
    return await finished_credit(api, tenant, accepted.json()["creditNoteId"])


async def stored_pdf(settings: Settings, mongo_db: Any, credit_note_id: str) -> bytes:
    note = await mongo_db.credit_notes.find_one({"_id": credit_note_id})
    storage = S3Storage(settings)
    try:
        return await storage.get(note["storageKey"])
    finally:
        await storage.close()


async def stored_pdf_text(settings: Settings, mongo_db: Any, credit_note_id: str) -> str:
    pdf = await stored_pdf(settings, mongo_db, credit_note_id)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def embedded_xml(pdf: bytes) -> etree._Element:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        attachment = document.attachments["factur-x.xml"]
        return etree.fromstring(bytes(attachment.get_file().read_bytes()))


async def test_whole_invoice_is_credited_rendered_emailed_and_shown_on_the_invoice(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    mongo_db: Any,
    settings: Settings,
    smtp_sink: SmtpSink,
    tenant: str,
) -> None:
    number = await invoiced(api, publish_orders, stored_order, tenant, "returned", customer="Max Credit")
    done = await credit(api, tenant, number, {"reason": "Order returned", "wholeInvoice": True})

    assert done["status"] == "DONE", done
    assert done["creditNoteNumber"] == "CN-000001"
    assert done["invoiceNumber"] == number and done["orderId"] == "returned"
    assert done["totals"] == {"net": "49.88", "tax": "8.88", "gross": "58.76"}
    assert done["refund"]["status"] == "NOT_NEEDED"  # paid on invoice: the credit reduces what is owed

    invoice = await mongo_db.invoices.find_one({"_id": f"{tenant}:returned"})
    assert invoice["credit"]["gross"] == "58.76" and invoice["credit"]["net"] == "49.88"
    assert [note["number"] for note in invoice["credit"]["notes"]] == ["CN-000001"]
    note = await mongo_db.credit_notes.find_one({"_id": done["creditNoteId"]})
    assert note["type"] == "credit-note" and note["reason"] == "Order returned"
    assert note["totals"] == {"net": "49.88", "tax": "8.88", "gross": "58.76"}

    text = await stored_pdf_text(settings, mongo_db, done["creditNoteId"])
    assert "Credit note" in text and "CN-000001" in text
    assert f"Corrects invoice {number}" in text  # with the invoice's date beside it
    assert "58.76" in text

    # A Factur-X e-invoice like every invoice: a credit note (381) naming the invoice it corrects (BT-25).
    xml = embedded_xml(await stored_pdf(settings, mongo_db, done["creditNoteId"]))
    assert xml.findtext("{*}ExchangedDocument/{*}TypeCode") == "381"
    assert xml.findtext(".//{*}InvoiceReferencedDocument/{*}IssuerAssignedID") == number
    assert xml.findtext(".//{*}GrandTotalAmount") == "58.76"
    # The lists show it with a working download link (presigned by the S3 storage of these tests).
    listed = (await api.get(f"/invoice/{tenant}/invoices", params={"type": "credit-note"})).json()["items"]
    [item] = [item for item in listed if item["number"] == "CN-000001"]
    async with httpx.AsyncClient() as plain:
        downloaded = await plain.get(item["links"]["pdf"])
    assert downloaded.status_code == 200
    assert downloaded.content == await stored_pdf(settings, mongo_db, done["creditNoteId"])

    async def emailed() -> list[Any]:
        mails = smtp_sink.mails_to("erika@example.com")
        return [mail for mail in mails if "CN-000001" in mail.message["Subject"] and "Max Credit" in str(mail.message)]

    [mail] = await wait_for(emailed, timeout=30, what="the credit note's email")
    [(filename, attachment)] = mail.attachments()
    assert filename == "Credit-note-CN-000001.pdf" and attachment.startswith(b"%PDF")

    again = await ask_credit(api, tenant, number, {"reason": "twice", "wholeInvoice": True})
    assert again.status_code == 409, again.text
    assert json.loads(again.json()["detailInfo"])["gross"] == "0.00"


async def test_line_credits_add_up_to_the_invoice_with_the_tenants_credit_note_sequence(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tenant: str
) -> None:
    sequence = {"preText": "GS-__num__", "numberOfDigits": 4, "startValue": 100, "maxValue": 9999}
    assert (await api.put(f"/invoice/{tenant}/settings/credit-note-sequence", json=sequence)).status_code == 200
    number = await invoiced(api, publish_orders, stored_order, tenant, "partly")

    first = await credit(api, tenant, number, {"reason": "cup broken", "lines": [{"entryId": "1", "quantity": 1}]})
    second = await credit(
        api, tenant, number, {"reason": "cup lost", "lines": [{"entryId": "1", "quantity": "1"}], "shipping": True}
    )
    third = await credit(api, tenant, number, {"reason": "rest", "wholeInvoice": True})

    assert [note["creditNoteNumber"] for note in (first, second, third)] == ["GS-0100", "GS-0101", "GS-0102"]
    assert [note["totals"]["gross"] for note in (first, second, third)] == ["23.79", "29.62", "5.35"]
    assert first["totals"] == {"net": "19.99", "tax": "3.80", "gross": "23.79"}
    assert second["totals"] == {"net": "24.89", "tax": "4.73", "gross": "29.62"}
    assert sum(Decimal(note["totals"]["gross"]) for note in (first, second, third)) == Decimal("58.76")


async def test_over_credit_is_409_with_what_is_left_and_bad_requests_are_4xx(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tenant: str
) -> None:
    number = await invoiced(api, publish_orders, stored_order, tenant, "over")
    await credit(api, tenant, number, {"reason": "one cup", "lines": [{"entryId": "1", "quantity": 1}]})

    over = await ask_credit(api, tenant, number, {"reason": "two cups", "lines": [{"entryId": "1", "quantity": 2}]})
    assert over.status_code == 409, over.text
    assert over.json()["code"] == "409"
    assert "entry 1: 2 asked, 1 left" in over.json()["message"]
    left = json.loads(over.json()["detailInfo"])
    assert left == {
        "currency": "EUR",
        "lines": [{"entryId": "1", "quantity": "1"}, {"entryId": "2", "quantity": "1"}],
        "shippingNet": "4.90",
        "gross": "34.97",
    }
    unknown_line = await ask_credit(api, tenant, number, {"reason": "x", "lines": [{"entryId": "9", "quantity": 1}]})
    assert unknown_line.status_code == 409 and "no line with entry ID '9'" in unknown_line.json()["message"]

    nothing = await ask_credit(api, tenant, number, {"reason": "nothing"})
    assert nothing.status_code == 400 and "wholeInvoice" in nothing.json()["message"]
    negative = await ask_credit(api, tenant, number, {"reason": "x", "lines": [{"entryId": "1", "quantity": -1}]})
    assert negative.status_code == 400 and "lines.0.quantity" in negative.json()["message"]
    both = await ask_credit(api, tenant, number, {"reason": "x", "wholeInvoice": True, "shipping": True})
    assert both.status_code == 400

    unknown = await ask_credit(api, tenant, "INV-999999", {"reason": "x", "wholeInvoice": True})
    assert unknown.status_code == 404
    assert unknown.json()["message"] == f"Invoice INV-999999 not found for tenant {tenant}"
    other_tenant = "o" + tenant[1:]
    theirs = await ask_credit(api, other_tenant, number, {"reason": "x", "wholeInvoice": True})
    assert theirs.status_code == 404
    assert (await api.get(f"/invoice/{tenant}/credit-notes/no-such-note")).status_code == 404


async def test_two_requests_for_the_last_unit_one_wins_the_other_fails_with_what_is_left(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tenant: str
) -> None:
    number = await invoiced(api, publish_orders, stored_order, tenant, "race")
    body = {"reason": "the last beans", "lines": [{"entryId": "2", "quantity": 1}]}
    accepted = await asyncio.gather(ask_credit(api, tenant, number, body), ask_credit(api, tenant, number, body))
    assert [response.status_code for response in accepted] == [202, 202]  # both pass the API's pre-check
    finished = [await finished_credit(api, tenant, response.json()["creditNoteId"]) for response in accepted]

    assert sorted(note["status"] for note in finished) == ["DONE", "FAILED"]
    [lost] = [note for note in finished if note["status"] == "FAILED"]
    assert "entry 2: 1 asked, 0 left" in lost["message"]
    assert "creditNoteNumber" not in lost


def credit_deps(settings: Settings, db: Any) -> CreditDeps:
    async def nothing_queued(_: Any) -> None:
        raise AssertionError("nothing is queued in this test")

    tenant_settings = TenantSettingsRepository(db)
    storage = open_storage(settings, LinkSigner(settings))
    invoices = InvoiceRepository(db)

    async def render(_: Any) -> bytes:
        return b"%PDF-"

    return CreditDeps(
        invoices=invoices,
        credit_notes=CreditNoteRepository(db),
        tenant_settings=tenant_settings,
        storage=storage,
        render=render,
        captures=PaymentCaptures(db),
        refunds=PaymentGateway(settings),
        email=EmailDeps(invoices, tenant_settings, storage, Mailer(settings), settings.email_default_sender),
        queue_refund=nothing_queued,
        queue_email=nothing_queued,
    )


async def test_numbering_races_in_two_workers_at_once_leave_exactly_one_credit_for_the_last_unit(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    mongo_db: Any,
    settings: Settings,
    tenant: str,
) -> None:
    """The agent's check itself, not Kafka's ordering: two numberings of the same last unit run at the same
    moment against the real store (as two workers would after a rebalance); exactly one credit note is made."""
    number = await invoiced(api, publish_orders, stored_order, tenant, "race2")
    deps = credit_deps(settings, mongo_db)

    def request(note_id: str) -> CreditNoteRequested:
        return CreditNoteRequested(
            tenant=tenant,
            creditNoteId=note_id,
            orderId="race2",
            invoiceNumber=number,
            reason="race",
            lines=[CreditedLine(entryId="2", quantity=Decimal(1))],
        )

    for _ in range(3):  # a few rounds: the two must overlap at least once, and never both win
        outcomes = await asyncio.gather(
            number_credit_note(request(f"{tenant}-a{_}"), deps),
            number_credit_note(request(f"{tenant}-b{_}"), deps),
            return_exceptions=True,
        )
        made = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
        refused = [outcome for outcome in outcomes if isinstance(outcome, CreditRefused)]
        assert len(made) + len(refused) == 2, outcomes
        assert len(made) <= 1
    notes = await CreditNoteRepository(mongo_db).of_invoice(tenant, number)
    assert [note.ordinal for note in notes] == [1]
    assert notes[0].credit_document().totals.total == Decimal("5.35")


async def test_one_ordinal_goes_to_one_credit_note_only(mongo_db: Any, settings: Settings, tenant: str) -> None:
    """The store's claim: two inserts of the same place among an invoice's credit notes, at once."""
    notes = CreditNoteRepository(mongo_db)
    order = parse_order_event(encoded(order_event(tenant, "o"))).order
    document = build_invoice_document(
        order=order,
        tenant=tenant,
        totals=recalculate(order),
        invoice_number="CN-1",
        issued_at=datetime.now(UTC),
        seller=DEFAULT_SELLER,
    )

    async def allocate(note_id: str, seq: int) -> Any:
        return await notes.allocate(
            tenant=tenant,
            note_id=note_id,
            order_id="o",
            invoice_number="INV-1",
            ordinal=1,
            seq=seq,
            number=f"CN-{seq}",
            reason="r",
            document=document,
            logo_sha256=None,
            refund=RefundState(RefundStatus.NOT_NEEDED, Decimal("1.00")),
        )

    # Credit-note IDs are unique across tenants (the API makes them uuid4): one per test run here.
    outcomes = await asyncio.gather(allocate(f"{tenant}-a", 1), allocate(f"{tenant}-b", 2), return_exceptions=True)
    assert sorted(type(outcome).__name__ for outcome in outcomes) == sorted(["CreditNoteRecord", CreditRaced.__name__])


async def test_a_captured_payment_is_refunded_and_a_refund_that_fails_stays_pending_until_retried(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    payment_gateway: FakePaymentGateway,
    tenant: str,
) -> None:
    def card(transaction: str) -> list[dict[str, Any]]:
        payment = {"method": "credit_card", "status": "AUTHORIZED", "authorizedAmount": 58.76}
        return [{**payment, "transactionId": transaction}]

    paid = await invoiced(api, publish_orders, stored_order, tenant, "card", payments=card(f"ok-{tenant}"))
    refunded = await credit(api, tenant, paid, {"reason": "one cup", "lines": [{"entryId": "1", "quantity": 1}]})
    assert refunded["refund"]["status"] == "REFUNDED" and refunded["refund"]["amount"] == "23.79"
    assert payment_gateway.refunds[f"ok-{tenant}"] == ["23.79"]
    [call] = payment_gateway.refund_calls_for(f"ok-{tenant}")
    assert call.idempotency_key and call.idempotency_key.startswith("invoice-refund-")

    stuck = f"norefund-{tenant}"
    paid = await invoiced(api, publish_orders, stored_order, tenant, "stuck", payments=card(stuck))
    pending = await credit(api, tenant, paid, {"reason": "returned", "wholeInvoice": True})
    assert pending["status"] == "DONE"  # the credit note stands; its refund is visibly pending
    assert pending["refund"]["status"] == "PENDING" and "HTTP 503" in pending["refund"]["error"]
    assert "the refund is pending and will be retried" in pending["message"]
    payment_gateway.heal(stuck)

    async def refunded_later() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(f"/invoice/{tenant}/credit-notes/{pending['creditNoteId']}")).json()
        return body if body["refund"]["status"] == "REFUNDED" else None

    await wait_for(refunded_later, timeout=60, what="the pending refund to be retried")
    assert payment_gateway.refunds[stuck] == ["58.76"]  # once, whatever was retried


async def test_a_credit_note_email_the_mail_server_did_not_take_is_pending_and_retried(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    smtp_sink: SmtpSink,
    mongo_db: Any,
    tenant: str,
) -> None:
    recipient = f"{tenant}@customer.example"
    event = order_event(tenant, "mailless")
    event["order"]["customer"]["email"] = recipient
    results = await invoice_events(api, publish_orders, stored_order, tenant, event)
    number = results["mailless"]["invoiceNumber"]
    smtp_sink.stop()
    try:
        done = await credit(api, tenant, number, {"reason": "returned", "wholeInvoice": True})
        assert done["status"] == "DONE"  # the credit note stands, whatever the mail server does
        assert f"the email to {recipient} is pending and will be retried" in done["message"]
        note = await mongo_db.credit_notes.find_one({"_id": done["creditNoteId"]})
        assert note["emailPending"] and note["emailedAt"] is None
    finally:
        smtp_sink.start()

    async def sent() -> list[Any]:
        return [mail for mail in smtp_sink.mails_to(recipient) if "CN-000001" in mail.message["Subject"]]

    [mail] = await wait_for(sent, timeout=60, what="the credit note's email, retried")
    [(_, attachment)] = mail.attachments()
    assert attachment.startswith(b"%PDF")

    async def recorded() -> Any:
        doc = await mongo_db.credit_notes.find_one({"_id": done["creditNoteId"]})
        return doc if doc.get("emailedAt") is not None else None

    note = await wait_for(recorded, timeout=30, what="emailedAt on the credit note")
    assert not note["emailPending"]


async def test_a_fully_credited_order_is_invoiced_again_by_a_new_manual_job_only(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    mongo_db: Any,
    tenant: str,
) -> None:
    """Issue 15: the whole invoice credited, a new MANUAL job makes a new invoice with the next number; the
    old one stays, with its credit note; an AUTOMATIC job never takes the order."""
    delivered = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    number = await invoiced(api, publish_orders, stored_order, tenant, "again", deliveryDate=delivered)
    refused = await finished_job(api, tenant, await create_job(api, tenant, ["again"]))
    [failure] = refused["orders"]
    assert failure["orderStatus"] == "FAILURE"
    assert failure["message"] == f"Order again is already invoiced as {number}; credit it fully to invoice it again"
    done = await credit(api, tenant, number, {"reason": "Order returned", "wholeInvoice": True})
    assert done["status"] == "DONE", done

    job = await finished_job(api, tenant, await create_job(api, tenant, ["again"]))

    [result] = job["orders"]
    assert result["orderStatus"] == "SUCCESS", result
    new_number = result["invoiceNumber"]
    assert new_number == "INV-000002" and new_number != number
    assert (await pdf_bytes(result["downloadLink"])).startswith(b"%PDF")
    listed = await api.get(f"/invoice/{tenant}/invoices", params={"orderId": "again"})
    assert listed.status_code == 200, listed.text
    assert [item["number"] for item in listed.json()["items"]] == [new_number, number]  # newest first
    old = (await api.get(f"/invoice/{tenant}/invoices/{number}")).json()
    assert old["credited"]["gross"] == "58.76" and [n["number"] for n in old["creditNotes"]] == ["CN-000001"]
    new = (await api.get(f"/invoice/{tenant}/invoices/{new_number}")).json()
    assert Decimal(new["credited"]["gross"]) == 0
    assert new["creditNotes"] == [] and new["orderId"] == "again"
    # Each PDF downloads through its list item's link; they are two documents.
    links = {item["number"]: item["links"]["pdf"] for item in listed.json()["items"]}
    assert await pdf_bytes(links[new_number]) != await pdf_bytes(links[number])

    # The new invoice is credited by its own number: all of it is left.
    partial = await credit(api, tenant, new_number, {"reason": "One cup", "lines": [{"entryId": "1", "quantity": 1}]})
    assert partial["status"] == "DONE" and partial["totals"]["gross"] == "23.79", partial

    # An AUTOMATIC job does not take the order, and the order stays out of its selection.
    settings = await api.put(f"/invoice/{tenant}/settings/invoice", json={"threshold": 24, "status": "COMPLETED"})
    assert settings.status_code == 200, settings.text
    automatic = await finished_job(api, tenant, await create_job(api, tenant))
    assert automatic["orders"] == []
    order = await mongo_db.orders.find_one({"_id": f"{tenant}:again"})
    assert order["awaitingInvoice"] is False
    assert await mongo_db.invoices.count_documents({"tenant": tenant, "orderId": "again"}) == 2
