"""What the CII and UBL writers share: element building and the exact spelling of numbers and dates."""

from decimal import Decimal

from lxml import etree

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
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
