"""Every case of tests/einvoice_cases.py made once per session, in every format and as a Factur-X PDF,
with the PDFs of the proofs (a PDF the validators must refuse, a profile of its own), and the slow
validators run once over the lot: veraPDF in one call for all PDFs, Mustang in two JVMs
(tests/validators/MustangBatch.java) that share them."""

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from invoicing.einvoice import EInvoiceFormat, FacturXProfile, einvoice_xml
from streams.rendering.facturx import facturx_pdf
from streams.rendering.pdf import render_invoice_pdf
from tests.einvoice_cases import PEPPOL_SETTINGS, SETTINGS, Case, cases
from tests.validators import toolkit


@dataclass(frozen=True)
class EInvoiceFiles:
    folder: Path
    cases: dict[str, Case]
    proofs: tuple[str, ...] = ()  # PDFs beside the cases' ones (PROOFS), validated with them

    def xml(self, case: str, fmt: EInvoiceFormat) -> Path:
        return self.folder / f"{case}-{fmt.value}.xml"

    def pdf(self, case: str) -> Path:
        return self.folder / f"{case}.pdf"


def xml_for(case: Case, fmt: EInvoiceFormat) -> bytes:
    if fmt is EInvoiceFormat.PEPPOL:
        return einvoice_xml(case.document, PEPPOL_SETTINGS, fmt, case.peppol_facts())
    return einvoice_xml(case.document, SETTINGS, fmt, case.facts)


def case_named(name: str) -> Case:
    [case] = [case for case in cases() if case.name == name]
    return case


def changed_total(xml: bytes, fmt: EInvoiceFormat) -> bytes:
    """The invoice total (BT-112) one cent higher, nothing else changed."""
    tag = (
        b"ram:GrandTotalAmount"
        if fmt in (EInvoiceFormat.FACTURX, EInvoiceFormat.XRECHNUNG_CII)
        else b"cbc:TaxInclusiveAmount"
    )
    match = re.search(rb"(<" + tag + rb"[^>]*>)([0-9.]+)(<)", xml)
    assert match is not None
    changed = f"{float(match[2]) + 0.01:.2f}".encode()
    return xml[: match.start(2)] + changed + xml[match.end(2) :]


def xrechnung_profile_xml() -> bytes:
    """The XRechnung CII of a German seller's case, for a Factur-X PDF of profile XRECHNUNG."""
    settings = dataclasses.replace(SETTINGS, profile=FacturXProfile.XRECHNUNG)
    case = case_named("german-seller")
    return einvoice_xml(case.document, settings, EInvoiceFormat.FACTURX, case.facts)


def changed_total_pdf() -> bytes:
    case = case_named("several-rates-shipping")
    changed = changed_total(xml_for(case, EInvoiceFormat.FACTURX), EInvoiceFormat.FACTURX)
    return facturx_pdf(render_invoice_pdf(case.document), changed)


def xrechnung_profile_pdf() -> bytes:
    document = case_named("german-seller").document
    return facturx_pdf(render_invoice_pdf(document), xrechnung_profile_xml(), profile=FacturXProfile.XRECHNUNG)


# The PDFs of tests/validators/test_einvoice_validation.py's proofs, validated in the cases' batch (a JVM
# less each): one Mustang must refuse, and an XRechnung-profile PDF that Mustang and veraPDF must accept.
PROOFS: dict[str, Callable[[], bytes]] = {
    "changed-total": changed_total_pdf,
    "xrechnung-profile": xrechnung_profile_pdf,
}


@pytest.fixture(scope="session")
def einvoice_files(tmp_path_factory: pytest.TempPathFactory) -> EInvoiceFiles:
    folder = tmp_path_factory.mktemp("einvoices")
    made = EInvoiceFiles(folder, {case.name: case for case in cases()}, tuple(PROOFS))
    for case in made.cases.values():
        for fmt in EInvoiceFormat:
            made.xml(case.name, fmt).write_bytes(xml_for(case, fmt))
        facturx = made.xml(case.name, EInvoiceFormat.FACTURX).read_bytes()
        made.pdf(case.name).write_bytes(facturx_pdf(render_invoice_pdf(case.document), facturx))
    for name, pdf in PROOFS.items():
        made.pdf(name).write_bytes(pdf())
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
    return toolkit.verapdf([einvoice_files.pdf(name) for name in (*einvoice_files.cases, *einvoice_files.proofs)])


@pytest.fixture(scope="session")
def mustang_results(einvoice_files: EInvoiceFiles, validators_installed: None) -> dict[str, toolkit.MustangResult]:
    """By case or proof name. The refused proof goes first, before the valid cases in its JVM: that they
    pass shows no file's verdict carries over to the next."""
    names = [*einvoice_files.proofs, *einvoice_files.cases]
    results = toolkit.mustang_all([einvoice_files.pdf(name) for name in names])
    return {name: results[einvoice_files.pdf(name)] for name in names}
