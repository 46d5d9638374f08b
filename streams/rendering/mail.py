"""The invoice email's words, in the document's language, from the message catalogs (like the PDF).

The payment sentence is the PDF's own ("Paid by credit card on ..." or "Please pay ... by ..."), so
the email never says something else than the invoice it carries.
"""

import re
from dataclasses import dataclass

from babel import Locale
from babel.dates import format_date

from invoicing.document import InvoiceDocument
from invoicing.language import gettext
from streams.rendering.content import invoice_content


@dataclass(frozen=True)
class MailText:
    subject: str
    body: str
    attachment_name: str


def one_line(text: str) -> str:
    """Header values must not break lines (a seller name could hold a newline)."""
    return " ".join(text.split())


def invoice_mail_text(document: InvoiceDocument) -> MailText:
    language = document.seller.language
    preceding = document.preceding_invoice

    def _(message: str) -> str:
        return gettext(language, message)

    if preceding is None:
        subject = _("Invoice {number} from {seller}")
        body = _(
            "Hello {buyer},\n\n"
            "please find attached invoice {number} for your order {order} of {order_date}.\n\n"
            "{payment}\n\n"
            "Kind regards\n"
            "{seller}\n"
        )
    else:
        subject = _("Credit note {number} from {seller}")
        body = _(
            "Hello {buyer},\n\n"
            "please find attached credit note {number}, which corrects invoice {invoice} for your order {order} "
            "of {order_date}.\n\n"
            "{payment}\n\n"
            "Kind regards\n"
            "{seller}\n"
        )
    content = invoice_content(document)
    values = {
        "number": document.invoice_number,
        "invoice": preceding.number if preceding else "",
        "seller": document.seller.legal_name,
        "buyer": document.buyer.name,
        "order": document.order_id,
        "order_date": format_date(document.order_date, format="long", locale=Locale.parse(document.seller.locale)),
        "payment": content.payment,
    }
    # Invoice numbers may hold '/' or spaces; the file name keeps letters, digits, '.', '_' and '-'.
    safe_number = re.sub(r"[^A-Za-z0-9._-]+", "_", document.invoice_number).strip("_") or "invoice"
    return MailText(
        subject=one_line(subject.format(**values)),
        body=body.format(**values),
        attachment_name=f"{content.heading.replace(' ', '-')}-{safe_number}.pdf",
    )
