"""The app's OpenAPI document keeps every path, operation, parameter constraint, schema and enum of
the contract; it may add (extensions), never drop or change."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from bootstrap.api import build_api

CONTRACT = yaml.safe_load((Path(__file__).parents[2] / "schemas" / "contract" / "invoice-api.yaml").read_text())
OURS = build_api().openapi()


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Inline every $ref so an inline object and a named schema compare equal."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolve(document, {**target, **{k: v for k, v in node.items() if k != "$ref"}})
        return {key: resolve(document, value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(document, item) for item in node]
    return node


def assert_schema_kept(contract: dict[str, Any], ours: dict[str, Any], where: str) -> None:
    for keyword in ("type", "enum", "pattern", "minLength", "maxLength", "format"):
        if keyword in contract:
            assert ours.get(keyword) == contract[keyword], f"{where}: {keyword}"
    for name in contract.get("required", []):
        assert name in ours.get("required", []), f"{where}: {name} must stay required"
    for name, prop in contract.get("properties", {}).items():
        assert name in ours.get("properties", {}), f"{where}: property {name} missing"
        assert_schema_kept(prop, ours["properties"][name], f"{where}.{name}")
    if "items" in contract:
        assert_schema_kept(contract["items"], ours["items"], f"{where}[]")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, resolve(document, {**op, "parameters": item.get("parameters", []) + op.get("parameters", [])}))
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "delete", "patch"}
    ]


@pytest.mark.parametrize(("path", "method", "contract_op"), operations(CONTRACT), ids=lambda v: str(v)[:40])
def test_operation_kept(path: str, method: str, contract_op: dict[str, Any]) -> None:
    ours = next(op for p, m, op in operations(OURS) if (p, m) == (path, method))
    assert ours["operationId"] == contract_op["operationId"]
    ours_params = {(p["name"], p["in"]): p for p in ours["parameters"]}
    for param in contract_op["parameters"]:
        mine = ours_params[(param["name"], param["in"])]
        assert mine["required"] == param["required"]
        assert_schema_kept(param["schema"], mine["schema"], f"{path} {param['name']}")
    for status, response in contract_op["responses"].items():
        assert status in ours["responses"], f"{method} {path}: response {status} missing"
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema:
            mine = ours["responses"][status]["content"]["application/json"]["schema"]
            assert_schema_kept(schema, mine, f"{method} {path} {status}")
    if "requestBody" in contract_op:
        assert_schema_kept(
            contract_op["requestBody"]["content"]["application/json"]["schema"],
            ours["requestBody"]["content"]["application/json"]["schema"],
            f"{method} {path} body",
        )


@pytest.mark.parametrize("name", CONTRACT["components"]["schemas"])
def test_named_schema_kept(name: str) -> None:
    assert_schema_kept(
        resolve(CONTRACT, CONTRACT["components"]["schemas"][name]),
        resolve(OURS, OURS["components"]["schemas"][name]),
        name,
    )


def test_no_422_documented() -> None:
    assert all("422" not in op["responses"] for _, _, op in operations(OURS))
