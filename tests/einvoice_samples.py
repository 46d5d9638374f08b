"""Writes docs/samples/einvoice-<format>.xml, one sample per e-invoice format, from the factories' order
(two rates, shipping, due by SEPA transfer):

    .venv/bin/python -m tests.einvoice_samples docs/samples

The files are indented for reading; the service writes the same XML unindented.
tests/unit/test_einvoice_samples.py fails when they differ from what the code makes.
"""

import sys
from pathlib import Path

from lxml import etree

from invoicing.einvoice import EInvoiceFormat, einvoice_xml
from tests.einvoice_cases import PEPPOL_SETTINGS, SETTINGS, cases

SAMPLE_CASE = "several-rates-shipping"


def samples() -> dict[str, bytes]:
    [case] = [case for case in cases() if case.name == SAMPLE_CASE]
    made = {}
    for fmt in EInvoiceFormat:
        peppol = fmt is EInvoiceFormat.PEPPOL
        xml = einvoice_xml(
            case.document, PEPPOL_SETTINGS if peppol else SETTINGS, fmt, case.peppol_facts() if peppol else case.facts
        )
        indented = etree.tostring(etree.fromstring(xml), xml_declaration=True, encoding="UTF-8", pretty_print=True)
        made[f"einvoice-{fmt.value}.xml"] = indented
    return made


def main(folder: str) -> None:
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    for name, xml in samples().items():
        (target / name).write_bytes(xml)
        print(target / name)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/samples")
