"""Audit the pinned versions (constraints.txt) against PyPI's advisory data; exit 1 on a known vulnerability
that has no waiver in deploy/audit/waivers.toml.

pip-audit does the audit. Some registries (the mirror this project is built on among them) serve only
PyPI's project documents (`/pypi/NAME/json`), not the per-version ones pip-audit asks for, so pip-audit
skips every pin there and passes silently. For each pin it skipped, this falls back to the project
document, whose `vulnerabilities` are those of the newest release: exact for a pin that is the newest
release; for an older pin it cannot see advisories fixed since, so such pins are listed as audited only
in part, never passed over in silence.

Usage: python deploy/audit/audit_pins.py [constraints.txt]
"""

import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import httpx
from packaging.version import InvalidVersion, Version

HERE = Path(__file__).resolve().parent
PYPI = "https://pypi.org/pypi"


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory: str
    fixed_in: tuple[str, ...]


def pinned_versions(constraints: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in constraints.read_text().splitlines():
        requirement = line.split("#", 1)[0].split(";", 1)[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def pip_audit(constraints: Path) -> tuple[list[Finding], list[str]]:
    """pip-audit's findings, and the pins it could not audit."""
    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "pip_audit", "--disable-pip", "--no-deps", "-r", str(constraints), "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1):  # 1: vulnerabilities found
        raise SystemExit(f"pip-audit failed: {result.stderr.strip()[-2000:]}")
    report = json.loads(result.stdout)
    findings, skipped = [], []
    for dependency in report["dependencies"]:
        if "skip_reason" in dependency:
            skipped.append(dependency["name"].lower())
            continue
        for vuln in dependency["vulns"]:
            findings.append(Finding(dependency["name"], dependency["version"], vuln["id"], tuple(vuln["fix_versions"])))
    return findings, skipped


def affects(version: str, fixed_in: list[str]) -> bool:
    """An advisory of the newest release affects an older pin too unless the pin is at or past a fix."""
    try:
        pinned = Version(version)
        return not any(pinned >= Version(fixed) for fixed in fixed_in)
    except InvalidVersion:
        return True


def project_document_findings(client: httpx.Client, name: str, version: str) -> tuple[list[Finding], str | None]:
    """The advisories PyPI lists for the project's newest release that affect `version`; and that release."""
    response = client.get(f"{PYPI}/{name}/json")
    response.raise_for_status()
    document = response.json()
    findings = [
        Finding(name, version, vuln["id"], tuple(vuln.get("fixed_in") or ()))
        for vuln in document.get("vulnerabilities") or ()
        if not vuln.get("withdrawn") and affects(version, vuln.get("fixed_in") or [])
    ]
    return findings, str(document["info"]["version"])


def waivers() -> dict[str, str]:
    """Advisory ID -> why it does not apply to this service (deploy/audit/waivers.toml)."""
    document = tomllib.loads((HERE / "waivers.toml").read_text())
    return {waiver["id"]: waiver["reason"] for waiver in document.get("waiver", [])}


def main() -> int:
    constraints = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "constraints.txt"
    pins = pinned_versions(constraints)
    findings, skipped = pip_audit(constraints)
    in_part: list[str] = []
    with httpx.Client(timeout=30) as client:
        for name in skipped:
            version = pins.get(name)
            if version is None:
                continue
            found, newest = project_document_findings(client, name, version)
            findings += found
            if newest != version:
                in_part.append(f"{name} {version} (newest {newest})")
    waived = waivers()
    unwaived = [finding for finding in findings if finding.advisory not in waived]
    for finding in findings:
        status = f"waived: {waived[finding.advisory]}" if finding.advisory in waived else "NOT WAIVED"
        fixed = ", ".join(finding.fixed_in) or "no fix yet"
        print(f"{finding.package} {finding.version}: {finding.advisory} (fixed in {fixed}) {status}")
    if in_part:
        print(
            f"audited against the newest release's advisories only ({len(in_part)} pins older than it): "
            + "; ".join(in_part)
        )
    print(f"dependency audit: {len(pins)} pins, {len(findings)} known vulnerabilities, {len(unwaived)} without waiver")
    return 1 if unwaived else 0


if __name__ == "__main__":
    sys.exit(main())
