"""SMTP adapter (aiosmtplib): send one email with a PDF attached.

Host, port, security (plain, STARTTLS or TLS), credentials and the timeout come from the settings.
Every failure becomes `EmailNotSent`, saying whether asking again can help: a server that is away or
answers 4xx may take the email later; a 5xx refusal of the sender, the recipient or the content is
final for this email. The password is a SecretStr and appears in no log line.

Who an email is from: the relay is the operator's, and its SPF and DKIM vouch only for the operator's
domain (and for the tenant domains the operator verified). A tenant's seller email is what the tenant
typed into its settings, so it never becomes the From header or the envelope sender on its own: From
is the operator's address (email_default_sender) with the seller's legal name, Reply-To the seller's
email, so replies still reach the seller. Only a seller email at a domain the operator lists as
verified for that tenant (email_verified_sender_domains) is used as From; no tenant can claim
another's domain.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

import aiosmtplib

from infra.settings import Settings
from invoicing.recipients import redacted_address

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingEmail:
    tenant: str
    sender: str  # the seller's email (or the operator's when it has none): From only if verified, else Reply-To
    sender_name: str
    recipient: str
    subject: str
    body: str
    attachment: bytes
    attachment_name: str
    # The same ID for every automatic attempt of one document's email (streams/emailing.py); None: a new one.
    message_id: str | None = None


class EmailNotSent(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def from_address(
    tenant: str, seller_address: str, operator_address: str, verified_domains: Mapping[str, Sequence[str]]
) -> str:
    """The From and envelope sender of a tenant's email: the seller's address when its domain is one the
    operator verified for this tenant, else the operator's."""
    verified = {domain.lower() for domain in verified_domains.get(tenant, ())}
    return seller_address if domain_of(seller_address) in verified else operator_address


def mime_message(email: OutgoingEmail, sender: str | None = None) -> EmailMessage:
    """The message, From `sender` (by default the email's own sender); the email's sender becomes
    Reply-To when it is not the From."""
    sender = sender or email.sender
    message = EmailMessage()
    message["From"] = formataddr((email.sender_name, sender))
    if email.sender.lower() != sender.lower():
        message["Reply-To"] = email.sender
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Message-ID"] = email.message_id or make_msgid(domain=domain_of(sender) or None)
    message.set_content(email.body)
    message.add_attachment(email.attachment, maintype="application", subtype="pdf", filename=email.attachment_name)
    return message


def smtp_options(settings: Settings) -> dict[str, Any]:
    """aiosmtplib's connection options for the configured server."""
    return {
        "hostname": settings.smtp_host,
        "port": settings.smtp_port,
        "use_tls": settings.smtp_security == "tls",
        # None would upgrade whenever the server offers STARTTLS; "none" means plain, as configured.
        "start_tls": settings.smtp_security == "starttls",
        "username": settings.smtp_username,
        "password": settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        "timeout": settings.smtp_timeout_seconds,
    }


def is_permanent(error: aiosmtplib.SMTPException) -> bool:
    """A 5xx refusal of this email's sender, recipient or content: sending it again gets the same answer."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(refused.code >= 500 for refused in error.recipients)
    if isinstance(error, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPSenderRefused | aiosmtplib.SMTPDataError):
        return error.code >= 500
    return False


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self._options = smtp_options(settings)
        self.server = f"{settings.smtp_host}:{settings.smtp_port}"
        self._operator_address = settings.email_default_sender
        self._verified_domains = settings.email_verified_sender_domains

    async def send(self, email: OutgoingEmail) -> None:
        sender = from_address(email.tenant, email.sender, self._operator_address, self._verified_domains)
        try:
            await aiosmtplib.send(
                mime_message(email, sender), sender=sender, recipients=[email.recipient], **self._options
            )
        except aiosmtplib.SMTPException as error:
            # aiosmtplib's refusals name the recipient; the reason is logged, so it names it redacted.
            said = str(error).replace(email.recipient, redacted_address(email.recipient))
            raise EmailNotSent(
                f"SMTP server {self.server}: {type(error).__name__}: {said}", permanent=is_permanent(error)
            ) from None
        except (OSError, TimeoutError) as error:
            raise EmailNotSent(f"SMTP server {self.server} not reachable: {error}", permanent=False) from None
