"""docs/samples/einvoice-*.xml are what the code makes (regenerate: python -m tests.einvoice_samples)."""

from pathlib import Path

import pytest

from tests.einvoice_samples import samples

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


@pytest.mark.parametrize(("name", "xml"), sorted(samples().items()))
def test_sample_is_current(name: str, xml: bytes) -> None:
    assert (SAMPLES / name).read_bytes() == xml, (
        f"run: .venv/bin/python -m tests.einvoice_samples docs/samples ({name})"
    )
