"""The layers hold: read every module's imports (AST, no import-linter needed) and check the rules.

- `invoicing/` (the domain) imports nothing of the project but itself;
- `schemas/` (wire models) imports only `schemas/`, and from `invoicing/` only names it re-exports
  (listed in its `__all__`);
- `infra/` (adapters both sides share) imports neither `service/` nor `streams/`;
- `service/` (the API) never imports `streams/` (the worker), and vice versa;
- `bootstrap/` (the composition root) may import every layer; no layer imports it.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PROJECT = {"bench", "bootstrap", "cli", "deploy", "infra", "invoicing", "schemas", "service", "streams", "tests"}
FORBIDDEN = {
    "invoicing": PROJECT - {"invoicing"},
    "schemas": PROJECT - {"schemas", "invoicing"},
    "infra": {"service", "streams", "cli", "tests", "bench", "bootstrap"},
    "service": {"streams", "cli", "tests", "bench", "bootstrap"},
    "streams": {"service", "cli", "tests", "bench", "bootstrap"},
    "bootstrap": {"cli", "tests", "bench"},
}


def project_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names imported from it) for each import of a project module."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return [(module, names) for module, names in found if module.split(".")[0] in PROJECT]


def declared_all(path: Path) -> set[str]:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return {str(elt.value) for elt in getattr(node.value, "elts", []) if isinstance(elt, ast.Constant)}
    return set()


def modules(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    breaches = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in modules(layer)
        for module, _ in project_imports(path)
        if module.split(".")[0] in FORBIDDEN[layer]
    ]
    assert breaches == []


def test_schemas_take_from_the_domain_only_what_they_re_export() -> None:
    breaches = [
        f"{path.relative_to(ROOT)} imports {name} from {module} without re-exporting it"
        for path in modules("schemas")
        for module, names in project_imports(path)
        if module.split(".")[0] == "invoicing"
        for name in names
        if name not in declared_all(path)
    ]
    assert breaches == []


def test_the_rules_see_a_breach(tmp_path: Path) -> None:
    """The check itself works: imports across layers are found, relative and outside ones are not."""
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom . import x\nfrom streams.pipeline import invoice_order\nimport service.app\n")
    assert sorted(project_imports(sample)) == [("service.app", []), ("streams.pipeline", ["invoice_order"])]
