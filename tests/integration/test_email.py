"""Invoice email end to end: the worker sends each new invoice to the customer through a real SMTP
server (aiosmtpd in this process, with credentials; the worker gets its port through INVOICE_SMTP_PORT),
retries while the server is away, across a worker restart, and the API sends an invoice again."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from infra.settings import Settings
from schemas.events import EmailReason, InvoiceEmailRequested
from tests.factories import order_event
from tests.fakes import ReceivedMail, SmtpSink
from tests.integration.conftest import DEFAULT_SENDER, GATEWAY_API_KEY, SMTP_PASSWORD
from tests.integration.flows import invoice_events, pdf_bytes
from tests.integration.test_jobs import dead_letters_of
from tests.support import WorkerProcess, wait_for

pytestmark = pytest.mark.integration

Publish = Callable[..., Awaitable[None]]


def order_for(tenant: str, order_id: str, **customer: str) -> dict[str, Any]:
    """The factories' order, its customer replaced (by default Erika, with an address of this test's own)."""
    event = order_event(tenant, order_id)
    event["order"]["customer"] = customer or {"name": "Erika Mustermann", "email": f"{tenant}@customer.example"}
    return event


async def mails_to(sink: SmtpSink, recipient: str, count: int = 1, timeout: float = 60) -> list[ReceivedMail]:
    async def arrived() -> list[ReceivedMail] | None:
        mails = sink.mails_to(recipient)
        return mails if len(mails) >= count else None

    return await wait_for(arrived, timeout=timeout, what=f"{count} email(s) to {recipient}")


async def test_new_invoice_is_emailed_from_the_operator_for_the_tenant_in_its_language_with_the_stored_pdf(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    smtp_sink: SmtpSink,
    tenant: str,
    mongo_db: Any,
) -> None:
    seller = {
        "legalName": "Kaffeerösterei Müller GmbH",
        "address": {"street": "Hauptstraße 1", "zipCode": "10115", "city": "Berlin", "country": "DE"},
        "vatId": "DE123456789",
        "email": f"billing@{tenant}.example",
        "language": "de",
        "locale": "de_DE",
    }
    response = await api.put(f"/invoice/{tenant}/settings/seller", json=seller)
    assert response.status_code == 200, response.text
    recipient = f"{tenant}@customer.example"

    results = await invoice_events(api, publish_orders, stored_order, tenant, order_for(tenant, "o-1"))
    result = results["o-1"]
    assert result["orderStatus"] == "SUCCESS"
    assert result["message"] == f"Invoice {result['invoiceNumber']} created and emailed to {recipient}"

    [mail] = await mails_to(smtp_sink, recipient)
    assert mail.rcpt_tos == (recipient,)
    # The relay's SPF and DKIM vouch for the operator's domain only: the envelope sender and From are the
    # operator's address (the tenant's domain is not verified), the seller's name shows, replies go to it.
    assert mail.mail_from == DEFAULT_SENDER
    assert mail.message["From"].addresses[0].addr_spec == DEFAULT_SENDER
    assert mail.message["From"].addresses[0].display_name == "Kaffeerösterei Müller GmbH"
    assert mail.message["Reply-To"] == f"billing@{tenant}.example"
    assert mail.message["To"] == recipient
    assert mail.message["Subject"] == f"Rechnung {result['invoiceNumber']} von Kaffeerösterei Müller GmbH"
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None and "Guten Tag Erika Mustermann" in body.get_content()
    [(filename, attachment)] = mail.attachments()
    assert filename == f"Rechnung-{result['invoiceNumber']}.pdf"
    assert attachment == await pdf_bytes(result["downloadLink"])  # the stored PDF, byte for byte

    invoice = await mongo_db.invoices.find_one({"_id": f"{tenant}:o-1"})
    assert isinstance(invoice["emailedAt"], datetime) and invoice["emailedAt"].tzinfo is not None
    assert invoice["emailedTo"] == recipient
    assert not invoice["emailPending"]


async def test_order_without_email_address_is_invoiced_without_email(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tenant: str
) -> None:
    results = await invoice_events(
        api,
        publish_orders,
        stored_order,
        tenant,
        order_for(tenant, "no-address", name="Ada Lovelace"),
        order_for(tenant, "bad-address", name="Ada Lovelace", email="ada at example"),
    )
    assert results["no-address"]["orderStatus"] == "SUCCESS"
    assert results["no-address"]["message"].endswith("no email was sent: the order has no customer email address")
    assert results["bad-address"]["orderStatus"] == "SUCCESS"
    assert (
        "no email was sent: the customer email address 'ada at example' is not valid"
        in (results["bad-address"]["message"])
    )
    number = results["no-address"]["invoiceNumber"]
    resend = await api.post(f"/invoice/{tenant}/invoices/{number}/email")
    assert resend.status_code == 409
    assert resend.json()["code"] == "409"
    assert "no customer email address" in resend.json()["message"]


async def test_a_recipient_the_mail_server_refuses_for_good_is_not_retried(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    smtp_sink: SmtpSink,
    tenant: str,
    mongo_db: Any,
) -> None:
    recipient = f"unknown-{tenant}@customer.example"
    results = await invoice_events(
        api, publish_orders, stored_order, tenant, order_for(tenant, "o-1", name="Nobody", email=recipient)
    )
    result = results["o-1"]
    assert result["orderStatus"] == "SUCCESS"
    assert f"the email to {recipient} was refused and will not be retried" in result["message"]
    assert "550" in result["message"]
    invoice = await mongo_db.invoices.find_one({"_id": f"{tenant}:o-1"})
    assert not invoice["emailPending"] and "550" in invoice["emailError"] and invoice.get("emailedAt") is None


async def test_mail_server_away_leaves_the_email_pending_until_it_is_back_even_across_a_worker_restart(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    smtp_sink: SmtpSink,
    tenant: str,
    mongo_db: Any,
) -> None:
    recipient = f"{tenant}@customer.example"
    smtp_sink.stop()
    try:
        results = await invoice_events(api, publish_orders, stored_order, tenant, order_for(tenant, "o-1"))
        result = results["o-1"]
        assert result["orderStatus"] == "SUCCESS"  # the invoice stands, whatever the mail server does
        assert f"the email to {recipient} is pending and will be retried" in result["message"]
        invoice = await mongo_db.invoices.find_one({"_id": f"{tenant}:o-1"})
        assert invoice["emailPending"] and invoice.get("emailedAt") is None

        # The retry lives on the invoice-emails topic, not in the worker's memory.
        worker.kill()
        await worker.start()
        assert smtp_sink.mails_to(recipient) == []
    finally:
        smtp_sink.start()

    [mail] = await mails_to(smtp_sink, recipient, timeout=120)
    assert mail.mail_from == DEFAULT_SENDER  # the tenant has no seller settings: the configured default
    assert mail.message["Subject"].startswith(f"Invoice {result['invoiceNumber']} from ")
    [(_, attachment)] = mail.attachments()
    assert attachment == await pdf_bytes(result["downloadLink"])

    async def recorded() -> Any:
        doc = await mongo_db.invoices.find_one({"_id": f"{tenant}:o-1"})
        return doc if doc.get("emailedAt") is not None else None

    invoice = await wait_for(recorded, timeout=30, what="emailedAt on the invoice")
    assert not invoice["emailPending"]


async def test_resend_endpoint_emails_the_invoice_again(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    smtp_sink: SmtpSink,
    tenant: str,
) -> None:
    recipient = f"{tenant}@customer.example"
    results = await invoice_events(api, publish_orders, stored_order, tenant, order_for(tenant, "o-1"))
    number = results["o-1"]["invoiceNumber"]
    await mails_to(smtp_sink, recipient)

    response = await api.post(f"/invoice/{tenant}/invoices/{number}/email")
    assert response.status_code == 202, response.text
    assert response.json() == {
        "invoiceNumber": number,
        "recipient": recipient,
        "message": f"Invoice {number} will be emailed to {recipient}",
    }
    first, second = await mails_to(smtp_sink, recipient, count=2)
    assert second.attachments() == first.attachments()
    assert second.message["Subject"] == first.message["Subject"]

    unknown = await api.post(f"/invoice/{tenant}/invoices/NO-SUCH-1/email")
    assert unknown.status_code == 404
    assert unknown.json() == {"message": f"Invoice NO-SUCH-1 not found for tenant {tenant}", "code": "404"}
    # Another tenant's invoice number is unknown here.
    other = await api.post(f"/invoice/x{tenant[:10]}/invoices/{number}/email")
    assert other.status_code == 404
    bad_tenant = await api.post(f"/invoice/Bad_Tenant/invoices/{number}/email")
    assert bad_tenant.status_code == 403  # no token can be of a tenant of that form


async def test_email_request_for_an_unknown_invoice_is_dead_lettered(
    worker: WorkerProcess, producer: AIOKafkaProducer, settings: Settings, tenant: str
) -> None:
    # A retry (the worker's own request after a failed first send): a resend is not even looked up
    # unless the API recorded it (tests/integration/test_recorded_requests.py).
    request = InvoiceEmailRequested(tenant=tenant, orderId="nowhere", invoiceNumber="INV-404", reason=EmailReason.RETRY)
    value = request.to_bytes()
    await producer.send_and_wait(settings.topic(settings.topic_invoice_emails), value, key=f"{tenant}:nowhere".encode())
    letters = await dead_letters_of(settings, lambda found: value in found)
    assert letters[value]["reason"] == f"no issued invoice INV-404 for order nowhere of tenant {tenant}"


async def test_no_secret_reaches_the_worker_log(
    api: httpx.AsyncClient, worker: WorkerProcess, publish_orders: Publish, stored_order: Any, tenant: str
) -> None:
    event = order_for(tenant, "o-1")
    event["order"]["payments"] = [
        {"method": "credit_card", "status": "AUTHORIZED", "authorizedAmount": 58.76, "transactionId": f"ok-{tenant}"}
    ]
    results = await invoice_events(api, publish_orders, stored_order, tenant, event)
    assert "emailed to" in results["o-1"]["message"]
    log = worker.log_path.read_text(errors="replace")
    # Both secrets were used (the gateway and the SMTP server accept nothing without them) ...
    assert "payment captured" in log and "invoice emailed" in log
    # ... and neither was written down.
    assert GATEWAY_API_KEY not in log
    assert SMTP_PASSWORD not in log
