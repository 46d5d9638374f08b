"""The e-invoices of every case through the real validators (installed by `make validators`):
XML Schema and Schematron (EN 16931, XRechnung 3.0.x, Peppol BIS 3.0) for each format, veraPDF
PDF/A-3b and Mustang for each Factur-X PDF; and proof that the checks can fail."""

from pathlib import Path

import pytest

from invoicing.einvoice import EInvoiceFormat
from streams.rendering.pdf import render_invoice_pdf
from tests.einvoice_cases import cases
from tests.validators import toolkit
from tests.validators.conftest import EInvoiceFiles, changed_total, xml_for, xrechnung_profile_xml

pytestmark = pytest.mark.validators

CASE_NAMES = [case.name for case in cases()]


@pytest.mark.parametrize("fmt", list(EInvoiceFormat), ids=str)
@pytest.mark.parametrize("name", CASE_NAMES)
def test_xml_passes_schema_and_schematron(
    einvoice_files: EInvoiceFiles, validators_installed: None, name: str, fmt: EInvoiceFormat
) -> None:
    problems = toolkit.xml_problems(einvoice_files.xml(name, fmt).read_bytes(), fmt)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_pdf_is_pdfa_3b(einvoice_files: EInvoiceFiles, verapdf_results: dict[Path, list[str]], name: str) -> None:
    failures = verapdf_results[einvoice_files.pdf(name)]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_mustang_finds_a_valid_pdf_a_valid_xml_and_no_failed_rule(
    mustang_results: dict[str, toolkit.MustangResult], name: str
) -> None:
    result = mustang_results[name]
    assert (result.pdf_valid, result.xml_valid, result.failed_rules) == (True, True, 0), result.report


def test_embedded_xml_is_the_standalone_facturx_xml(einvoice_files: EInvoiceFiles) -> None:
    for name in CASE_NAMES:
        embedded = toolkit.embedded_xml(einvoice_files.pdf(name))
        assert embedded == einvoice_files.xml(name, EInvoiceFormat.FACTURX).read_bytes()


@pytest.mark.parametrize("fmt", list(EInvoiceFormat), ids=str)
def test_a_changed_total_is_refused_naming_br_co_15(validators_installed: None, fmt: EInvoiceFormat) -> None:
    [case] = [case for case in cases() if case.name == "several-rates-shipping"]
    changed = changed_total(xml_for(case, fmt), fmt)
    problems = toolkit.xml_problems(changed, fmt)
    assert any("[BR-CO-15]" in problem for problem in problems), problems


def test_mustang_refuses_a_pdf_whose_xml_has_a_changed_total(mustang_results: dict[str, toolkit.MustangResult]) -> None:
    result = mustang_results["changed-total"]  # conftest.changed_total_pdf
    assert result.pdf_valid, "the PDF itself is still PDF/A-3b"
    assert not result.xml_valid and result.failed_rules > 0
    assert "BR-CO-15" in result.report


def test_verapdf_refuses_the_pdf_as_rendered_before_post_processing(validators_installed: None, tmp_path: Path) -> None:
    [case] = [case for case in cases() if case.name == "one-rate"]
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(render_invoice_pdf(case.document))
    [(_, failures)] = toolkit.verapdf([plain]).items()
    assert any(failure.startswith("6.6.2.1") for failure in failures), failures  # no XMP metadata


def test_xrechnung_profile_in_the_pdf(
    einvoice_files: EInvoiceFiles,
    verapdf_results: dict[Path, list[str]],
    mustang_results: dict[str, toolkit.MustangResult],
) -> None:
    """A Factur-X PDF carrying the XRechnung CII (profile XRECHNUNG), as German public buyers accept
    (conftest.xrechnung_profile_pdf)."""
    assert not toolkit.xml_problems(xrechnung_profile_xml(), EInvoiceFormat.XRECHNUNG_CII)
    assert toolkit.embedded_xml(einvoice_files.pdf("xrechnung-profile")) == xrechnung_profile_xml()
    result = mustang_results["xrechnung-profile"]
    assert result.valid, result.report
    assert verapdf_results[einvoice_files.pdf("xrechnung-profile")] == []


def test_a_missing_validator_fails_saying_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(toolkit, "MUSTANG_JAR", tmp_path / "nowhere" / "Mustang-CLI.jar")
    with pytest.raises(toolkit.ValidatorMissing, match=r"make validators"):
        toolkit.mustang(tmp_path / "any.pdf")
