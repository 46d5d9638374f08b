"""Every case of tests/einvoice_cases.py made once per session, in every format and as a Factur-X PDF,
and the slow validators run once over the lot: veraPDF in one call for all PDFs, Mustang once per PDF
(two at a time: each is a JVM of its own)."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from invoicing.einvoice import EInvoiceFormat, einvoice_xml
from streams.rendering.facturx import facturx_pdf
from streams.rendering.pdf import render_invoice_pdf
from tests.einvoice_cases import PEPPOL_SETTINGS, SETTINGS, Case, cases
from tests.validators import toolkit


@dataclass(frozen=True)
class EInvoiceFiles:
    folder: Path
    cases: dict[str, Case]

    def xml(self, case: str, fmt: EInvoiceFormat) -> Path:
        return self.folder / f"{case}-{fmt.value}.xml"

    def pdf(self, case: str) -> Path:
        return self.folder / f"{case}.pdf"


def xml_for(case: Case, fmt: EInvoiceFormat) -> bytes:
    if fmt is EInvoiceFormat.PEPPOL:
        return einvoice_xml(case.document, PEPPOL_SETTINGS, fmt, case.peppol_facts())
    return einvoice_xml(case.document, SETTINGS, fmt, case.facts)


@pytest.fixture(scope="session")
def einvoice_files(tmp_path_factory: pytest.TempPathFactory) -> EInvoiceFiles:
    folder = tmp_path_factory.mktemp("einvoices")
    made = EInvoiceFiles(folder, {case.name: case for case in cases()})
    for case in made.cases.values():
        for fmt in EInvoiceFormat:
            made.xml(case.name, fmt).write_bytes(xml_for(case, fmt))
        facturx = made.xml(case.name, EInvoiceFormat.FACTURX).read_bytes()
        made.pdf(case.name).write_bytes(facturx_pdf(render_invoice_pdf(case.document), facturx))
    return made


def _installed() -> None:
    """A validator that is missing fails the tests that need it, saying how to install it."""
    for what, path in (
        ("veraPDF", toolkit.VERAPDF_CLASSPATH),
        ("Mustang", toolkit.MUSTANG_JAR),
        *((f"The {syntax} XML Schema", path) for syntax, path in toolkit.XSD.items()),
        *((f"The {name} Schematron", path) for name, path in toolkit.RULESETS.items()),
    ):
        if not path.exists():
            pytest.fail(str(toolkit.ValidatorMissing(what, path)), pytrace=False)
    try:
        import saxonche  # noqa: F401
    except ImportError:
        pytest.fail(f"saxonche is not installed: {toolkit.INSTALL_HINT}", pytrace=False)


@pytest.fixture(scope="session")
def validators_installed() -> None:
    _installed()


@pytest.fixture(scope="session")
def verapdf_results(einvoice_files: EInvoiceFiles, validators_installed: None) -> dict[Path, list[str]]:
    return toolkit.verapdf([einvoice_files.pdf(name) for name in einvoice_files.cases])


@pytest.fixture(scope="session")
def mustang_results(
    einvoice_files: EInvoiceFiles, validators_installed: None
) -> Iterator[dict[str, toolkit.MustangResult]]:
    names = list(einvoice_files.cases)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda name: toolkit.mustang(einvoice_files.pdf(name)), names)
        yield dict(zip(names, results, strict=True))
