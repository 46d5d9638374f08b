"""SMTP adapter (aiosmtplib): send one email with a PDF attached.

Host, port, security (plain, STARTTLS or TLS), credentials and the timeout come from the settings.
Every failure becomes `EmailNotSent`, saying whether asking again can help: a server that is away or
answers 4xx may take the email later; a 5xx refusal of the sender, the recipient or the content is
final for this email. The password is a SecretStr and appears in no log line.
"""

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

import aiosmtplib

from infra.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingEmail:
    sender: str
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


def mime_message(email: OutgoingEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((email.sender_name, email.sender))
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Message-ID"] = email.message_id or make_msgid(domain=email.sender.rpartition("@")[2] or None)
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

    async def send(self, email: OutgoingEmail) -> None:
        try:
            await aiosmtplib.send(
                mime_message(email), sender=email.sender, recipients=[email.recipient], **self._options
            )
        except aiosmtplib.SMTPException as error:
            raise EmailNotSent(
                f"SMTP server {self.server}: {type(error).__name__}: {error}", permanent=is_permanent(error)
            ) from None
        except (OSError, TimeoutError) as error:
            raise EmailNotSent(f"SMTP server {self.server} not reachable: {error}", permanent=False) from None
