"""Log lines carry their context: the fields of extra={...} and those bound by log_context, in both formats."""

import json
import logging
from collections.abc import Iterator

import pytest

from infra.logs import configure_logging, log_context


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_the_order_context_and_the_extra_fields(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", json=True)
    log = logging.getLogger("streams.pipeline")
    with log_context(tenant="shop", job="job-1", order="o-1"):
        log.info("invoice issued", extra={"number": "INV-1"})
    log.warning("outside any order")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["event"] == "invoice issued" and first["level"] == "info"
    assert (first["tenant"], first["job"], first["order"], first["number"]) == ("shop", "job-1", "o-1", "INV-1")
    assert first["logger"] == "streams.pipeline"
    # The context ends with its block.
    assert second["event"] == "outside any order" and "order" not in second


def test_key_value_lines_carry_the_context_too(restore_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=False)
    with log_context(tenant="shop", job="job-1", order="o-1"):
        logging.getLogger("streams.pipeline").info("payment captured", extra={"capture": "cap-1"})
    line = capsys.readouterr().err
    for field in ("tenant=shop", "job=job-1", "order=o-1", "capture=cap-1", "payment captured"):
        assert field in line
