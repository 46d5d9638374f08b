"""Render an invoice document to PDF bytes: the entry point of the renderer (`pool.py` runs it).

Three steps, a module each: `content.py` decides what the invoice says (localised strings),
`layout.py` places them on pages (measured with the embedded fonts' own metrics), `writer.py` makes
the PDF file with borb. The logo is read by `images.py`, the fonts subset by `fonts.py`.
"""

import logging
from datetime import UTC, datetime, time

from invoicing.document import InvoiceDocument
from invoicing.einvoice import invoice_xml
from streams.rendering.content import invoice_content
from streams.rendering.facturx import facturx_pdf
from streams.rendering.fonts import fallback_fonts, font_for
from streams.rendering.images import Logo, UnsupportedImage, logo_image
from streams.rendering.layout import lay_out
from streams.rendering.text import Fonts
from streams.rendering.writer import prepare_borb, write_pdf

logger = logging.getLogger(__name__)


def warm_up() -> None:
    """For a render process's start: borb prepared and the base font subsets made (~0.5 s) before the
    first invoice arrives rather than while it waits."""
    prepare_borb()
    for bold in (False, True):
        font_for(bold, "")


def render_invoice_pdf(document: InvoiceDocument) -> bytes:
    content = invoice_content(document)
    characters = set().union(*content.strings())
    fonts = Fonts(
        regular=font_for(False, characters),
        bold=font_for(True, characters),
        fallbacks={bold: fallback_fonts(bold, characters, content.language) for bold in (False, True)},
    )
    logo = _logo(document.seller.logo)
    return write_pdf(lay_out(content, fonts, logo), fonts, logo, content)


def render_facturx_pdf(document: InvoiceDocument) -> bytes:
    """The invoice as the service issues it: the rendered PDF as PDF/A-3b with its CII XML embedded as
    factur-x.xml (Factur-X, profile from the document's frozen e-invoice settings). Raises EInvoiceRefused
    when the order or the settings lack a value the XML needs. The moment written into the file is the
    invoice date's midnight (UTC), so rendering the same document again gives the same bytes."""
    xml = invoice_xml(document)
    moment = datetime.combine(document.invoice_date, time(), UTC)
    return facturx_pdf(render_invoice_pdf(document), xml, profile=document.einvoice.profile, moment=moment)


def check_einvoice(document: InvoiceDocument) -> None:
    """Raises EInvoiceRefused when `document` cannot become an e-invoice: checked before the invoice
    number is allocated, so an order the XML cannot be made for uses up no number."""
    invoice_xml(document)


def _logo(data: bytes | None) -> Logo | None:
    """The seller's logo; one that cannot be read is left out (and logged) rather than failing invoices."""
    if not data:
        return None
    try:
        return logo_image(data)
    except UnsupportedImage as error:
        logger.warning("invoice logo left out: %s", error)
        return None
