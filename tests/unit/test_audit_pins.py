"""The dependency audit's fallback to PyPI's project document, on canned registry answers."""

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def audit_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_pins", ROOT / "deploy" / "audit" / "audit_pins.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def registry(document: dict[str, Any]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, json=document)))


def test_an_advisory_of_the_newest_release_is_found_for_an_older_pin_not_past_its_fix() -> None:
    audit = audit_module()
    document = {
        "info": {"version": "2.0"},
        "vulnerabilities": [
            {"id": "PYSEC-1", "fixed_in": ["2.1"], "withdrawn": None},
            {"id": "PYSEC-2", "fixed_in": ["1.5"], "withdrawn": None},
            {"id": "PYSEC-3", "fixed_in": [], "withdrawn": "2026-01-01T00:00:00"},
        ],
    }
    findings, newest = audit.project_document_findings(registry(document), "lib", "1.9")
    assert newest == "2.0"
    assert [finding.advisory for finding in findings] == ["PYSEC-1"]


def test_pins_are_read_with_markers_and_comments(tmp_path: Path) -> None:
    audit = audit_module()
    path = tmp_path / "constraints.txt"
    path.write_text("Foo==1.0 ; python_version < '4'\n# bar==2\nbaz==3.1  # why\n")
    assert audit.pinned_versions(path) == {"foo": "1.0", "baz": "3.1"}
