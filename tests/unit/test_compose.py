"""docker-compose.yml cannot run here (no Docker engine), so it is checked against the Compose
specification's JSON Schema, which `make test` fetches into .local/cache."""

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).parents[2]
SCHEMA = ROOT / ".local" / "cache" / "compose-spec.json"


def test_compose_file_follows_the_compose_specification() -> None:
    assert SCHEMA.exists(), f"{SCHEMA} is missing: run `make test` (it fetches the schema)"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.validate(compose, json.loads(SCHEMA.read_text()))


def test_compose_has_the_parts_and_loopback_only_ports() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert {"kafka", "mongo", "minio", "api", "worker"} <= services.keys()
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["mongo"]["image"].startswith("mongo:")
    assert services["minio"]["image"].startswith("minio/minio")
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published and all(port.startswith("127.0.0.1:") for port in published)
