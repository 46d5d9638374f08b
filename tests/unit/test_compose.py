"""docker-compose.yml cannot run here (no Docker engine), so it is checked against the Compose
specification's JSON Schema. The schema ships inside the docker-compose 1.29.2 wheel on PyPI: the test
fetches it into .local/cache on first use (as `make unit` does), so a plain `pytest tests/unit` works on a
fresh clone with network access, and says what to do without it."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).parents[2]
CACHE = ROOT / ".local" / "cache"
SCHEMA = CACHE / "compose-spec.json"
WHEEL = CACHE / "docker_compose-1.29.2-py2.py3-none-any.whl"
SCHEMA_IN_WHEEL = "compose/config/compose_spec.json"


def compose_schema() -> Path:
    """The schema file, fetched first when it is missing (the Makefile target does the same)."""
    if SCHEMA.exists():
        return SCHEMA
    CACHE.mkdir(parents=True, exist_ok=True)
    if not WHEEL.exists():
        download = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(CACHE)]
        fetched = subprocess.run([*download, "docker-compose==1.29.2"], capture_output=True, text=True, timeout=180)
        if fetched.returncode != 0 or not WHEEL.exists():
            pytest.fail(
                f"{SCHEMA} is missing and could not be fetched from PyPI ({fetched.stderr.strip()[-300:]}); "
                f"run `make {SCHEMA.relative_to(ROOT)}` where PyPI is reachable, or put the file there by hand",
                pytrace=False,
            )
    partial = SCHEMA.with_suffix(".partial")
    partial.write_bytes(zipfile.ZipFile(WHEEL).read(SCHEMA_IN_WHEEL))
    partial.replace(SCHEMA)  # another test run never sees half a file
    return SCHEMA


def test_compose_file_follows_the_compose_specification() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.validate(compose, json.loads(compose_schema().read_text()))


def test_compose_has_the_parts_and_loopback_only_ports() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert {"kafka", "mongo", "minio", "api", "worker"} <= services.keys()
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["mongo"]["image"].startswith("mongo:")
    assert services["minio"]["image"].startswith("minio/minio")
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published and all(port.startswith("127.0.0.1:") for port in published)
