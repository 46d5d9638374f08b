"""The real e-invoice validators, as deploy/local/validators.sh installs them into .local/validators/:

- XML Schema: CII D16B and UBL 2.1, with lxml;
- Schematron: the official EN 16931 rules (CII, UBL), XRechnung 3.0.x and Peppol BIS Billing 3.0, as the
  compiled XSLT the phive rules jars ship, run with saxonche (SaxonC-HE); a failed assert or report
  flagged fatal or error fails the file, warnings do not;
- veraPDF (greenfield, `-f 3b`): PDF/A-3b, many files per call;
- Mustang (its validator, as `--action validate` runs it, a new one per file: the CLI's own batch mode
  carries state from file to file), many files per JVM (tests/validators/MustangBatch.java): valid PDF,
  valid XML, zero failed rules.

A validator that is not installed raises ValidatorMissing, whose message says how to install it.
Also a command line for an invoice of one's own: `python -m tests.validators FILE...`.
"""

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from invoicing.einvoice import EInvoiceFormat

ROOT = Path(__file__).resolve().parents[2]
VALIDATORS_DIR = Path(os.environ.get("VALIDATORS_DIR", ROOT / ".local" / "validators"))
INSTALL_HINT = "run `make validators` (bash deploy/local/validators.sh) to install it"
JAVA = os.environ.get("JAVA", "java")
# veraPDF and Mustang are JVMs of seconds, not servers: the C1 compiler alone and the serial collector
# halve their CPU time (measured: the same reports, in half the user time) on a machine of two cores.
JAVA_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}

XSD = {
    "CII": VALIDATORS_DIR / "xsd/cii/data/standard/CrossIndustryInvoice_100pD16B.xsd",
    "UBL": VALIDATORS_DIR / "xsd/ubl/maindoc/UBL-Invoice-2.1.xsd",
}
RULESETS = {
    "EN16931-CII": VALIDATORS_DIR / "rules/en16931/cii/EN16931-CII-validation.xslt",
    "EN16931-UBL": VALIDATORS_DIR / "rules/en16931/ubl/EN16931-UBL-validation.xslt",
    "XRechnung-CII": VALIDATORS_DIR / "rules/xrechnung/XRechnung-CII-validation.xslt",
    "XRechnung-UBL": VALIDATORS_DIR / "rules/xrechnung/XRechnung-UBL-validation.xslt",
    "Peppol-BIS-3": VALIDATORS_DIR / "rules/peppol/PEPPOL-EN16931-UBL.xslt",
}
# Which schema and which Schematron rule sets each format must pass: EN 16931 always, then the CIUS.
CHECKS: dict[EInvoiceFormat, tuple[str, tuple[str, ...]]] = {
    EInvoiceFormat.FACTURX: ("CII", ("EN16931-CII",)),
    EInvoiceFormat.XRECHNUNG_CII: ("CII", ("EN16931-CII", "XRechnung-CII")),
    EInvoiceFormat.XRECHNUNG_UBL: ("UBL", ("EN16931-UBL", "XRechnung-UBL")),
    EInvoiceFormat.PEPPOL: ("UBL", ("EN16931-UBL", "Peppol-BIS-3")),
}
VERAPDF_CLASSPATH = VALIDATORS_DIR / "verapdf"
MUSTANG_JAR = VALIDATORS_DIR / "mustang/Mustang-CLI.jar"


class ValidatorMissing(RuntimeError):
    def __init__(self, what: str, path: Path) -> None:
        super().__init__(f"{what} is not installed ({path} is missing): {INSTALL_HINT}")


def _require(what: str, path: Path) -> Path:
    if not path.exists():
        raise ValidatorMissing(what, path)
    return path


@dataclass(frozen=True)
class RuleFailure:
    rule: str  # BR-CO-15, BR-DE-15, PEPPOL-EN16931-R010, ...
    flag: str  # fatal, error, warning
    location: str
    text: str

    def __str__(self) -> str:
        return f"[{self.rule}] ({self.flag}) {self.text} at {self.location}"


# --- XML Schema ---------------------------------------------------------------------------------


@cache
def _schema(syntax: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(_require(f"The {syntax} XML Schema", XSD[syntax]))))


def xsd_errors(xml: bytes, syntax: str) -> list[str]:
    schema = _schema(syntax)
    if schema.validate(etree.fromstring(xml)):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


# --- Schematron ---------------------------------------------------------------------------------


@cache
def _saxon() -> Any:
    try:
        from saxonche import PySaxonProcessor
    except ImportError as error:
        raise ValidatorMissing("saxonche (the XSLT 2.0 processor for the Schematron)", Path("saxonche")) from error
    return PySaxonProcessor(license=False)


@cache
def _stylesheet(ruleset: str) -> Any:
    path = _require(f"The {ruleset} Schematron", RULESETS[ruleset])
    compiler = _saxon().new_xslt30_processor()
    return compiler.compile_stylesheet(stylesheet_file=str(path))


def schematron_failures(xml: bytes, ruleset: str, *, include_warnings: bool = False) -> list[RuleFailure]:
    """The asserts of `ruleset` that `xml` fails (and reports it triggers) flagged fatal or error."""
    node = _saxon().parse_xml(xml_text=xml.decode("utf-8"))
    svrl = etree.fromstring(_stylesheet(ruleset).transform_to_string(xdm_node=node).encode("utf-8"))
    failures = []
    for element in svrl.xpath(".//svrl:failed-assert | .//svrl:successful-report", namespaces=SVRL):
        flag = element.get("flag") or "error"
        if flag in ("fatal", "error") or include_warnings:
            text = " ".join((element.findtext("svrl:text", default="", namespaces=SVRL)).split())
            failures.append(RuleFailure(element.get("id") or "?", flag, element.get("location") or "", text))
    return failures


def xml_problems(xml: bytes, fmt: EInvoiceFormat) -> list[str]:
    """Everything the schema and the format's rule sets refuse in `xml`; empty when valid."""
    syntax, rulesets = CHECKS[fmt]
    problems = [f"XSD {syntax}: {error}" for error in xsd_errors(xml, syntax)]
    for ruleset in rulesets:
        problems += [f"{ruleset}: {failure}" for failure in schematron_failures(xml, ruleset)]
    return problems


# --- veraPDF ------------------------------------------------------------------------------------


def verapdf(paths: Sequence[Path], flavour: str = "3b") -> dict[Path, list[str]]:
    """veraPDF over all `paths` in one JVM: each file's failed rules (clause, description), empty when
    the file conforms."""
    _require("veraPDF", VERAPDF_CLASSPATH)
    command = [
        JAVA,
        *JAVA_OPTIONS,
        "-cp",
        f"{VERAPDF_CLASSPATH}/*",
        "org.verapdf.apps.GreenfieldCliWrapper",
        "-f",
        flavour,
        "--format",
        "mrr",
        *map(str, paths),
    ]
    # veraPDF exits 1 when a file does not conform; the report says which.
    run = subprocess.run(command, capture_output=True, check=False, timeout=600)
    if run.returncode not in (0, 1):
        raise RuntimeError(f"veraPDF failed ({run.returncode}): {run.stderr.decode(errors='replace')[-2000:]}")
    report = etree.fromstring(run.stdout)
    results: dict[Path, list[str]] = {}
    for job in report.iterfind("jobs/job"):
        name = Path(job.findtext("item/name", default=""))
        validation = job.find("validationReport")
        if validation is None:
            results[name] = [f"not validated: {etree.tostring(job, encoding='unicode')[:500]}"]
            continue
        results[name] = [
            f"{rule.get('clause')}-{rule.get('testNumber')}: {rule.findtext('description')}"
            for rule in validation.iterfind("details/rule")
            if rule.get("status") == "failed"
        ]
        if validation.get("isCompliant") != "true" and not results[name]:
            results[name] = [validation.get("statement") or "not compliant"]
    missing = set(paths) - set(results)
    if missing:
        raise RuntimeError(f"veraPDF reported nothing for {sorted(missing)}")
    return results


# --- Mustang ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MustangResult:
    pdf_valid: bool
    xml_valid: bool
    failed_rules: int
    report: str  # Mustang's XML report, which names every failed rule

    @property
    def valid(self) -> bool:
        return self.pdf_valid and self.xml_valid and self.failed_rules == 0


MUSTANG_BATCH = Path(__file__).with_name("MustangBatch.java")


def mustang_all(paths: Sequence[Path], jvms: int = 2) -> dict[Path, MustangResult]:
    """Mustang's validation of each Factur-X PDF (or XML) of `paths`, in `jvms` JVMs at once (each takes
    every jvms-th file): a JVM's start and the loading of the rule sets (most of a run) are paid per JVM,
    not per file. A new validator per file, as the CLI."""
    _require("Mustang", MUSTANG_JAR)
    shares = [share for share in (list(paths)[n::jvms] for n in range(jvms)) if share]
    results: dict[Path, MustangResult] = {}
    with ThreadPoolExecutor(max_workers=max(1, len(shares))) as pool:
        for share_results in pool.map(_mustang_jvm, shares):
            results.update(share_results)
    return results


def _mustang_jvm(paths: Sequence[Path]) -> dict[Path, MustangResult]:
    jar = _require("Mustang", MUSTANG_JAR)
    with tempfile.TemporaryDirectory(prefix="mustang-") as folder:
        # Java's source-file launcher compiles the small driver in memory: no build step, no class file.
        command = [JAVA, *JAVA_OPTIONS, "-cp", str(jar), str(MUSTANG_BATCH), folder, *map(str, paths)]
        run = subprocess.run(command, capture_output=True, check=False, timeout=120 + 60 * len(paths))
        results = {}
        for n, path in enumerate(paths):
            report = Path(folder) / f"{n}.xml"
            if not report.exists():
                stderr = run.stderr.decode(errors="replace")[-2000:]
                raise RuntimeError(f"Mustang gave no report for {path} ({run.returncode}): {stderr}")
            results[path] = _mustang_result(report.read_text(encoding="utf-8"))
    return results


def mustang(path: Path) -> MustangResult:
    """Mustang's validation of one Factur-X PDF (or XML)."""
    return _mustang_jvm([path])[path]


def _mustang_result(output: str) -> MustangResult:
    start = output.find("<validation")
    if start < 0:
        raise RuntimeError(f"Mustang's report is not one: {output[:2000]}")
    report = etree.fromstring(output[start:].encode("utf-8"))

    def status(section: str) -> bool:
        summary = report.find(f"{section}/summary")
        return summary is not None and summary.get("status") == "valid"

    failed = int(report.findtext("xml/info/rules/failed", default="0") or 0)
    return MustangResult(status("pdf"), status("xml"), failed, output[start:])


# --- command line -------------------------------------------------------------------------------


def _format_of(xml: bytes) -> EInvoiceFormat:
    root = etree.fromstring(xml)
    customization = root.findtext(".//{*}GuidelineSpecifiedDocumentContextParameter/{*}ID") or root.findtext(
        "{*}CustomizationID"
    )
    is_cii = etree.QName(root).localname == "CrossIndustryInvoice"
    if customization and "xrechnung" in customization:
        return EInvoiceFormat.XRECHNUNG_CII if is_cii else EInvoiceFormat.XRECHNUNG_UBL
    if customization and "peppol" in customization and not is_cii:
        return EInvoiceFormat.PEPPOL
    return EInvoiceFormat.FACTURX if is_cii else EInvoiceFormat.PEPPOL


def embedded_xml(pdf: Path) -> bytes | None:
    import pikepdf

    with pikepdf.open(pdf) as document:
        attachment = document.attachments.get("factur-x.xml")
        return bytes(attachment.get_file().read_bytes()) if attachment is not None else None


def main(arguments: Iterable[str]) -> int:
    """Validate each file: an XML by its format (from its specification identifier), a PDF with veraPDF,
    Mustang and its embedded factur-x.xml. Prints every problem; exits 1 if there is one."""
    paths = [Path(argument) for argument in arguments]
    if not paths:
        print("usage: python -m tests.validators INVOICE.pdf|INVOICE.xml ...", file=sys.stderr)
        return 2
    bad = 0
    pdfs = [path for path in paths if path.suffix.lower() == ".pdf"]
    pdfa = verapdf([path.resolve() for path in pdfs]) if pdfs else {}
    zugferd = mustang_all([path.resolve() for path in pdfs]) if pdfs else {}
    for path in paths:
        problems: list[str] = []
        if path.suffix.lower() == ".pdf":
            problems += [f"veraPDF PDF/A-3b: {failure}" for failure in pdfa[path.resolve()]]
            result = zugferd[path.resolve()]
            if not result.valid:
                problems.append(
                    f"Mustang: pdf {'valid' if result.pdf_valid else 'INVALID'}, xml "
                    f"{'valid' if result.xml_valid else 'INVALID'}, {result.failed_rules} failed rules\n{result.report}"
                )
            xml = embedded_xml(path)
        else:
            xml = path.read_bytes()
        if xml is None:
            problems.append("no factur-x.xml embedded")
            label = "pdf"
        else:
            fmt = _format_of(xml)
            problems += xml_problems(xml, fmt)
            label = fmt.value
        print(f"{'VALID' if not problems else 'INVALID'} {path} ({label})")
        for problem in problems:
            print(f"  {problem}")
        bad += bool(problems)
    return 1 if bad else 0
