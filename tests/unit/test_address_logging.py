"""A customer's email address never reaches a log line in clear: an invalid one, or one the mail server
refuses, is logged redacted (j***@e***.com); the tenant's job result still names it."""

import logging
from datetime import UTC, datetime

import aiosmtplib
import pytest

from infra.mail import EmailNotSent, Mailer, OutgoingEmail
from infra.settings import Settings
from invoicing.document import DEFAULT_SELLER, build_invoice_document
from invoicing.recalculation import recalculate
from invoicing.recipients import NoRecipient, invoice_recipient, redacted_address
from schemas.events import DeadLetter, EmailReason, InvoiceEmailRequested
from schemas.orders import parse_order_event
from streams.agents.emails import handle_email_request
from streams.emailing import EmailDeps
from tests.factories import encoded, order_event
from tests.memory import MemoryInvoices, MemoryStorage, MemoryTenantSettings
from tests.unit.agent_wiring import record
from tests.unit.test_agent_failures import dead_letters

__all__ = ["dead_letters"]  # the fixture, used by name

INVALID = "erika.mustermann at example.com"
REFUSED = "erika.mustermann@example.com"


@pytest.mark.parametrize(
    ("address", "redacted"),
    [
        ("jane.doe@example.com", "j***@e***.com"),
        ("erika@mail.example.co", "e***@m***.co"),
        (INVALID, "e***"),
        ("a@b", "a***@b***"),
        ("@", "***@***"),
    ],
)
def test_redacted_address(address: str, redacted: str) -> None:
    assert redacted_address(address) == redacted


def test_no_recipient_says_the_address_to_the_tenant_and_redacted_to_the_log() -> None:
    with pytest.raises(NoRecipient) as nobody:
        invoice_recipient(INVALID)
    assert INVALID in str(nobody.value)
    assert INVALID not in nobody.value.for_log and "e***" in nobody.value.for_log


async def stored_invoice(invoices: MemoryInvoices, storage: MemoryStorage, email: str) -> None:
    event = order_event("shop", "o-1")
    event["order"]["customer"]["email"] = email
    order = parse_order_event(encoded(event)).order
    document = build_invoice_document(
        order=order, tenant="shop", totals=recalculate(order), invoice_number="N1",
        issued_at=datetime.now(UTC), seller=DEFAULT_SELLER, captured=None,
    )  # fmt: skip
    invoice = await invoices.allocate(tenant="shop", order_id="o-1", job_id="j", seq=1, number="N1", document=document)
    assert invoice is not None
    await storage.put("shop/invoices/N1.pdf", b"%PDF stored")
    await invoices.mark_issued(invoice, "shop/invoices/N1.pdf")


@pytest.mark.parametrize("address", [INVALID, REFUSED])
async def test_an_email_request_logs_the_customer_address_only_redacted(
    address: str, dead_letters: list[DeadLetter], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args: object, **kwargs: object) -> None:
        refused = aiosmtplib.SMTPRecipientRefused(550, f"5.1.1 <{REFUSED}>: no such user", REFUSED)
        raise aiosmtplib.SMTPRecipientsRefused([refused])

    monkeypatch.setattr(aiosmtplib, "send", refuse)
    invoices, storage = MemoryInvoices(), MemoryStorage()
    await stored_invoice(invoices, storage, address)
    settings = Settings(email_retry_initial_seconds=0.01, email_retry_max_seconds=0.01)
    deps = EmailDeps(invoices, MemoryTenantSettings(), storage, Mailer(settings), settings.email_default_sender)
    request = InvoiceEmailRequested(tenant="shop", orderId="o-1", invoiceNumber="N1", reason=EmailReason.RETRY)
    with caplog.at_level(logging.DEBUG):
        await handle_email_request(record(request.to_bytes()), deps, settings)
    assert dead_letters == []
    assert "not emailed" in caplog.text or "refused" in caplog.text  # the line the test is about was logged
    assert "e***" in caplog.text  # the redacted form stands in its place
    assert address not in caplog.text
    for logged in caplog.records:
        assert address not in logged.getMessage() and address not in str(vars(logged))


async def test_a_refusal_names_the_recipient_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(*args: object, **kwargs: object) -> None:
        raise aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no such user", REFUSED)])

    monkeypatch.setattr(aiosmtplib, "send", refuse)
    email = OutgoingEmail("shop", "s@shop.example", "Shop", REFUSED, "Invoice", "Hello", b"%PDF", "Invoice.pdf")
    with pytest.raises(EmailNotSent) as refused:
        await Mailer(Settings()).send(email)
    assert REFUSED not in refused.value.reason and "e***@e***.com" in refused.value.reason
    assert refused.value.permanent
