"""The PDF file: borb's document, pages, resources and metadata around the pages `layout.py` drew.

borb holds the document and serialises it; the page content streams are already written. borb's
writer spends its time per PDF object and per array element (docs/invoice-pdf.md, "Speed"), so the
objects are kept few: one resources dictionary shared by all pages, font programs shared by all
documents of a process (`fonts.py`), each font's width table listing only the glyphs the document draws.
"""

import contextlib
import io
import logging
import zlib
from functools import lru_cache

from borb.pdf import PDF, Document, Page, UsageStatistics
from borb.pdf.primitives import hexstr, name, stream

from streams.rendering.content import InvoiceContent
from streams.rendering.images import Raster
from streams.rendering.layout import LOGO_RESOURCE, PAGE_HEIGHT, PAGE_WIDTH, Canvas
from streams.rendering.text import Fonts, font_resource

CREATOR = "invoice-service"

_prepared = False


def prepare_borb() -> None:
    """Once per process, before the first document: borb otherwise sends usage statistics over the
    network and, on first use, installs its own SIGINT and SIGTERM handlers (only when opted in)."""
    global _prepared
    if not _prepared:
        UsageStatistics.opt_out()
        logging.getLogger("fontTools").setLevel(logging.ERROR)  # "FFTM NOT subset" notes are no news
        _prepared = True


def write_pdf(pages: list[Canvas], fonts: Fonts, logo: Raster | None, content: InvoiceContent) -> bytes:
    """The PDF of these pages, with the document's metadata from `content`."""
    prepare_borb()
    resources = _resources(fonts, pages, logo)
    pdf = Document()
    for canvas in pages:
        pdf.append_page(_page(canvas, resources))
    _describe(pdf, content)

    buffer = io.BytesIO()
    # borb prints a licence reminder to stdout every 64 documents; it belongs in neither stdout nor logs.
    with contextlib.redirect_stdout(io.StringIO()):
        PDF.write(what=pdf, where_to=buffer)
    return buffer.getvalue()


def _resources(fonts: Fonts, pages: list[Canvas], logo: Raster | None) -> dict[str, object]:
    """The resources of every page of one document: one dictionary, so borb writes it once."""
    used: dict[tuple[bool, int], set[str]] = {}
    for page in pages:
        for key, characters in page.characters.items():
            used.setdefault(key, set()).update(characters)
    font_resources = {
        name(font_resource(bold, index)): fonts.chain(bold)[index].resource(characters)
        for (bold, index), characters in used.items()
    }
    resources: dict[str, object] = {name("Font"): font_resources}
    if logo:
        resources[name("XObject")] = {name(LOGO_RESOURCE): image_xobject(logo)}
    return resources


@lru_cache(maxsize=8)
def image_xobject(image: Raster) -> stream:
    """An image XObject (with its soft mask), made once per logo and process like the logo's decoding."""
    xobject = stream()
    xobject[name("Type")] = name("XObject")
    xobject[name("Subtype")] = name("Image")
    xobject[name("Width")] = image.width
    xobject[name("Height")] = image.height
    xobject[name("ColorSpace")] = _colour_space(image)
    xobject[name("BitsPerComponent")] = 8
    xobject[name("Filter")] = name(image.encoding)
    xobject[name("Bytes")] = image.data
    xobject[name("Length")] = len(image.data)
    if image.inverted:
        xobject[name("Decode")] = [1, 0] * 4
    if image.alpha:
        xobject[name("SMask")] = image_xobject(image.alpha)
    return xobject


def _colour_space(image: Raster) -> object:
    if image.colour_space == "Indexed":
        return [name("Indexed"), name("DeviceRGB"), len(image.palette) // 3 - 1, hexstr(image.palette.hex())]
    return name(image.colour_space)


def _page(canvas: Canvas, resources: dict[str, object]) -> Page:
    page = Page(width_in_points=PAGE_WIDTH, height_in_points=PAGE_HEIGHT)
    page[name("Resources")] = resources
    contents = stream()
    contents[name("Bytes")] = zlib.compress(canvas.content(), 6)
    contents[name("Filter")] = name("FlateDecode")
    contents[name("Length")] = len(contents["Bytes"])
    page[name("Contents")] = contents
    return page


def _describe(pdf: Document, content: InvoiceContent) -> None:
    """Document metadata (title, author, subject) and language, for viewers, search and screen readers."""
    info = pdf["Trailer"]["Info"]
    info[name("Title")] = _text_string(content.title)
    info[name("Author")] = _text_string(content.author)
    info[name("Subject")] = _text_string(content.subject)
    info[name("Creator")] = _text_string(CREATOR)
    catalog = pdf["Trailer"]["Root"]
    catalog[name("Lang")] = _text_string(content.language)
    catalog[name("ViewerPreferences")] = {name("DisplayDocTitle"): True}


def _text_string(value: str) -> hexstr:
    """A PDF text string in UTF-16BE with its byte order mark: any character, no escaping needed."""
    return hexstr("FEFF" + value.encode("utf-16-be").hex().upper())
