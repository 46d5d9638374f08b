"""The invoice email: who gets it, its words in the invoice's language, the MIME message, the SMTP
options, and which mail server answers end the retries."""

import dataclasses
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import aiosmtplib
import pytest
from pydantic import SecretStr

from infra.mail import Mailer, OutgoingEmail, from_address, is_permanent, mime_message, smtp_options
from infra.settings import Settings
from invoicing.document import DEFAULT_SELLER, InvoiceDocument, build_invoice_document
from invoicing.payments import CapturedPayment
from invoicing.recalculation import recalculate
from invoicing.recipients import recipient_problem
from schemas.orders import parse_order_event
from streams.rendering.mail import invoice_mail_text
from tests.factories import encoded, order_event


def document(
    language: str = "en", locale: str = "en_GB", number: str = "INV-000042", **captured: str
) -> InvoiceDocument:
    order = parse_order_event(encoded(order_event("shop", "order-9"))).order
    return build_invoice_document(
        order=order,
        tenant="shop",
        totals=recalculate(order),
        invoice_number=number,
        issued_at=datetime(2026, 11, 25, 9, tzinfo=UTC),
        seller=dataclasses.replace(DEFAULT_SELLER, legal_name="Kaffee & Co. GmbH", language=language, locale=locale),
        captured=CapturedPayment(method=captured["method"], captured_at=datetime(2026, 11, 25, 9, tzinfo=UTC))
        if captured
        else None,
    )


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("erika@example.com", None),
        ("  erika@example.com ", None),
        (None, "the order has no customer email address"),
        ("", "the order has no customer email address"),
        ("erika", "is not valid"),
        ("erika@example", "is not valid"),
        ("eri ka@example.com", "is not valid"),
        ("erika@example.com\nBcc: x@y.z", "is not valid"),  # never a header injection
    ],
)
def test_recipient_problem(address: str | None, problem: str | None) -> None:
    found = recipient_problem(address)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_english_mail_says_what_the_invoice_says() -> None:
    text = invoice_mail_text(document())
    assert text.subject == "Invoice INV-000042 from Kaffee & Co. GmbH"
    assert text.body.startswith("Hello Erika Mustermann,\n")
    assert "invoice INV-000042 for your order order-9 of 20 November 2026" in text.body
    assert "Please pay €58.76 by 9 Dec 2026" in text.body  # the PDF's own payment sentence
    assert text.body.rstrip().endswith("Kaffee & Co. GmbH")
    assert text.attachment_name == "Invoice-INV-000042.pdf"


def test_german_mail_of_a_paid_invoice() -> None:
    text = invoice_mail_text(document("de", "de_DE", method="credit_card"))
    assert text.subject == "Rechnung INV-000042 von Kaffee & Co. GmbH"
    assert text.body.startswith("Guten Tag Erika Mustermann,\n")
    assert "Rechnung INV-000042 zu Ihrer Bestellung order-9 vom 20. November 2026" in text.body
    assert "Bezahlt per Kreditkarte am 25.11.2026" in text.body
    assert "Mit freundlichen Grüßen" in text.body
    assert text.attachment_name == "Rechnung-INV-000042.pdf"


def test_attachment_name_of_a_number_with_slashes_and_spaces() -> None:
    assert invoice_mail_text(document(number="2026/11 A 7")).attachment_name == "Invoice-2026_11_A_7.pdf"


def test_mime_message_carries_sender_name_recipient_and_the_pdf_unchanged() -> None:
    pdf = b"%PDF-1.7\n\x00\xff binary \r\n bytes"
    email = OutgoingEmail(
        tenant="kaffee",
        sender="billing@kaffee.example",
        sender_name="Müller & Söhne GmbH",
        recipient="erika@example.com",
        subject="Rechnung INV-1 von Müller & Söhne GmbH",
        body="Guten Tag,\n\nanbei …\n",
        attachment=pdf,
        attachment_name="Rechnung-INV-1.pdf",
    )
    parsed = message_from_bytes(bytes(mime_message(email)), policy=default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["To"] == "erika@example.com"
    assert parsed["From"].addresses[0].addr_spec == "billing@kaffee.example"
    assert parsed["From"].addresses[0].display_name == "Müller & Söhne GmbH"
    assert parsed["Subject"] == "Rechnung INV-1 von Müller & Söhne GmbH"
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Rechnung-INV-1.pdf"
    assert attachment.get_content() == pdf
    assert parsed["Message-ID"].endswith("@kaffee.example>")  # a new one, as none was given

    stable = dataclasses.replace(email, message_id="<invoice.0123abcd@kaffee.example>")
    assert mime_message(stable)["Message-ID"] == "<invoice.0123abcd@kaffee.example>"


OPERATOR = "invoices@operator.example"
VERIFIED = {"kaffee": ["Kaffee.example"], "other": ["other.example"]}


@pytest.mark.parametrize(
    ("tenant", "seller", "sender"),
    [
        ("kaffee", "billing@kaffee.example", "billing@kaffee.example"),  # verified for this tenant (any case)
        ("kaffee", "billing@KAFFEE.example", "billing@KAFFEE.example"),
        ("kaffee", "ceo@other.example", OPERATOR),  # another tenant's verified domain: never
        ("kaffee", "billing@sub.kaffee.example", OPERATOR),  # a subdomain is another domain
        ("kaffee", "ceo@bank.example", OPERATOR),  # what a tenant typed: never From
        ("unlisted", "billing@kaffee.example", OPERATOR),
    ],
)
def test_from_is_the_operators_address_unless_the_tenants_domain_is_verified(
    tenant: str, seller: str, sender: str
) -> None:
    assert from_address(tenant, seller, OPERATOR, VERIFIED) == sender


def outgoing(tenant: str, sender: str) -> OutgoingEmail:
    return OutgoingEmail(
        tenant=tenant,
        sender=sender,
        sender_name="Bank of Example",
        recipient="erika@example.com",
        subject="Invoice 1",
        body="Please pay to DE00 ...",
        attachment=b"%PDF-1.7",
        attachment_name="Invoice-1.pdf",
    )


def test_a_seller_email_the_operator_did_not_verify_becomes_reply_to() -> None:
    message = mime_message(outgoing("shop", "ceo@bank.example"), OPERATOR)
    assert message["From"].addresses[0].addr_spec == OPERATOR
    assert message["From"].addresses[0].display_name == "Bank of Example"
    assert message["Reply-To"] == "ceo@bank.example"
    assert message["Message-ID"].endswith("@operator.example>")
    own = mime_message(outgoing("kaffee", "billing@kaffee.example"), "billing@kaffee.example")
    assert own["Reply-To"] is None  # From is the seller already


async def test_the_mailer_sends_from_the_operator_with_the_seller_as_reply_to(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[EmailMessage, str]] = []

    async def send(message: EmailMessage, *, sender: str, recipients: list[str], **options: object) -> None:
        sent.append((message, sender))

    monkeypatch.setattr(aiosmtplib, "send", send)
    mailer = Mailer(Settings(email_default_sender=OPERATOR, email_verified_sender_domains=VERIFIED))
    await mailer.send(outgoing("shop", "ceo@bank.example"))
    await mailer.send(outgoing("kaffee", "billing@kaffee.example"))
    [(forged, forged_envelope), (verified, verified_envelope)] = sent
    assert forged_envelope == OPERATOR and forged["From"].addresses[0].addr_spec == OPERATOR
    assert forged["Reply-To"] == "ceo@bank.example"
    assert verified_envelope == "billing@kaffee.example" and verified["Reply-To"] is None


def test_verified_sender_domains_are_read_per_tenant_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVOICE_EMAIL_VERIFIED_SENDER_DOMAINS", '{"shop": ["shop.example"]}')
    assert Settings().email_verified_sender_domains == {"shop": ["shop.example"]}


@pytest.mark.parametrize(
    ("security", "use_tls", "start_tls"),
    [("none", False, False), ("starttls", False, True), ("tls", True, False)],
)
def test_smtp_options(security: str, use_tls: bool, start_tls: bool) -> None:
    settings = Settings.model_validate(
        {"smtp_host": "mail.example", "smtp_port": 587, "smtp_security": security, "smtp_username": "u"}
        | {"smtp_password": SecretStr("s3cret"), "smtp_timeout_seconds": 4}
    )
    options = smtp_options(settings)
    assert (options["hostname"], options["port"], options["timeout"]) == ("mail.example", 587, 4)
    assert (options["use_tls"], options["start_tls"]) == (use_tls, start_tls)
    assert (options["username"], options["password"]) == ("u", "s3cret")
    assert "s3cret" not in repr(settings)


def test_defaults_suit_a_local_mail_catcher() -> None:
    options = smtp_options(Settings())
    assert (options["hostname"], options["port"], options["use_tls"], options["start_tls"]) == (
        "127.0.0.1",
        1025,
        False,
        False,
    )
    assert options["username"] is None and options["password"] is None


def test_only_a_5xx_refusal_of_this_email_is_final() -> None:
    refused = aiosmtplib.SMTPRecipientRefused(550, "no such user", "x@example.com")
    greylisted = aiosmtplib.SMTPRecipientRefused(450, "try again later", "x@example.com")
    assert is_permanent(refused)
    assert not is_permanent(greylisted)
    assert is_permanent(aiosmtplib.SMTPRecipientsRefused([refused]))
    assert not is_permanent(aiosmtplib.SMTPRecipientsRefused([refused, greylisted]))
    assert is_permanent(aiosmtplib.SMTPSenderRefused(553, "not yours", "a@b.c"))
    assert is_permanent(aiosmtplib.SMTPDataError(554, "rejected"))
    assert not is_permanent(aiosmtplib.SMTPDataError(451, "local error"))
    # The server, not this email: away, or wrongly configured. Retried until it is fixed.
    assert not is_permanent(aiosmtplib.SMTPConnectError("refused"))
    assert not is_permanent(aiosmtplib.SMTPServerDisconnected("gone"))
    assert not is_permanent(aiosmtplib.SMTPAuthenticationError(535, "bad credentials"))
