"""What the CII and UBL writers share: element building and the exact spelling of numbers and dates."""

import re
from collections.abc import Callable, Hashable, Iterable
from decimal import Decimal
from xml.sax.saxutils import escape

from lxml import etree

from invoicing.einvoice.terms import Line
from invoicing.einvoice.vat import VatCategory

CENT = Decimal("0.01")


class UnrepresentableAmount(ValueError):
    """An amount with more than two decimals: EN 16931 amounts have at most two (currencies with three
    minor digits, such as KWD, cannot be invoiced under EN 16931)."""


def amount(value: Decimal) -> str:
    """An amount as EN 16931 writes it: exactly two decimals, never rounded here (the document rounded
    once already; rounding again could make the XML differ from the PDF)."""
    exact = value.quantize(CENT)
    if exact != value:
        raise UnrepresentableAmount(f"the amount {value} has more than two decimals")
    return f"{exact:f}"


def decimal(value: Decimal) -> str:
    """A quantity, price or rate with the digits it has, at least one and without an exponent:
    2, 1.5, 0.125, 19 (never 2.000 or 1E+2)."""
    normalized = value.normalize()
    text = f"{normalized:f}"
    return text if text != "-0" else "0"


def price(value: Decimal) -> str:
    """A unit price: at least two decimals (19.90, 5.00), more when it has them (0.125)."""
    return f"{value.quantize(CENT):f}" if value == value.quantize(CENT) else decimal(value)


def sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def serialized(root: etree._Element) -> bytes:
    # Not pretty-printed: indenting a 200-line invoice costs a millisecond and a third more bytes in
    # every PDF; docs/samples are indented by the script that writes them.
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# Where the serialized lines go: a comment in the tree, replaced in the serialized document. No value can
# make this text (lxml and escaped() escape "<"), so it occurs exactly once.
LINES_MARKER = "einvoice-lines"
_INVALID_XML_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SPECIAL_CHARACTERS = re.compile('[&<>"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')
_NAMESPACE_DECLARATION = re.compile(r' xmlns(?::\w+)?="[^"]*"')


def escaped(value: str) -> str:
    """Text or attribute content as lxml would write it; characters XML cannot hold are refused, as
    lxml refuses them."""
    if _SPECIAL_CHARACTERS.search(value) is None:  # nearly always: one regex search instead of four replaces
        return value
    if _INVALID_XML_CHARACTERS.search(value):
        raise ValueError(f"{value!r} holds characters XML cannot carry")
    return escape(value, {'"': "&quot;"})


def repeated_elements(
    rows: Iterable[tuple[Hashable, dict[str, str]]],
    build: Callable[[etree._Element, dict[str, str]], None],
    nsmap: dict[str | None, str],
) -> str:
    """The elements of `rows` (one invoice line each) serialized, for `spliced()` to put in place of the
    LINES_MARKER comment.

    Why not one lxml element per value: at ~1.2 us per element a 200-line invoice spends ~5 ms there,
    which alone would take e-invoicing past its budget (at most 30 % on top of rendering, see
    bench/einvoice_bench.py). So `build` makes each line shape (which optional parts a line has) once,
    with lxml, its texts being "{name}" placeholders; every line is then that serialized template
    with its own texts, which must come escaped (line_rows escapes them)."""
    templates: dict[Hashable, str] = {}
    parts = []
    for shape, texts in rows:
        template = templates.get(shape)
        if template is None:
            holder = etree.Element("holder", nsmap=nsmap)
            build(holder, {name: f"{{{name}}}" for name in texts})
            # The document's root declares the namespaces already.
            template = _NAMESPACE_DECLARATION.sub("", etree.tostring(holder[0], encoding="unicode"))
            if template.count("{") != sum(template.count(f"{{{name}}}") for name in texts):
                raise ValueError(f"a constant text of the line template has a brace: {template}")
            templates[shape] = template
        parts.append(template.format_map(texts))
    return "".join(parts)


def spliced(document: bytes, lines: str) -> bytes:
    return document.replace(f"<!--{LINES_MARKER}-->".encode(), lines.encode("utf-8"), 1)


def line_rows(lines: Iterable[Line]) -> Iterable[tuple[Hashable, dict[str, str]]]:
    """Each line's texts by name, escaped for XML (numbers and codes need no escaping), with its shape:
    which optional parts it has (SKU, discount, a rate)."""
    for line in lines:
        has_rate = line.vat.category is not VatCategory.NOT_SUBJECT
        texts = {
            "id": escaped(line.id),  # BT-126
            "quantity": decimal(line.quantity),  # BT-129
            "net": amount(line.net_amount),  # BT-131
            "price": price(line.net_price),  # BT-146
            "name": escaped(line.item_name),  # BT-153
            "category": line.vat.category.value,  # BT-151
            "unit": escaped(line.unit_code),  # BT-130
        }
        if line.seller_item_id:
            texts["sku"] = escaped(line.seller_item_id)  # BT-155
        if line.allowance:
            texts["allowance"] = amount(line.allowance)  # BT-136
        if has_rate:
            texts["rate"] = decimal(line.vat.rate)  # BT-152
        yield (bool(line.seller_item_id), bool(line.allowance), has_rate), texts
