"""The human CLI's site options: `jobs create --site` asks for an AUTOMATIC job of one site and
`invoices list --site` filters by it (the requests as the API gets them; the API itself is tested over
the fakes in tests/unit/api/)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from typer.testing import CliRunner

import cli.human
from cli import app


class RecordingApi:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        self.requests.append((method, path, options))
        return {"jobId": "j-1"} if method == "POST" else {"items": []}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> RecordingApi:
    recording = RecordingApi()

    @contextmanager
    def connected(*_: Any) -> Iterator[RecordingApi]:
        yield recording

    monkeypatch.setattr(cli.human, "connected", connected)
    return recording


CREDENTIALS = ["--client-id", "c", "--client-secret", "s"]


def test_jobs_create_with_a_site_asks_for_an_automatic_job_of_that_site(api: RecordingApi) -> None:
    result = CliRunner().invoke(app, ["jobs", "create", "--site", "fr", *CREDENTIALS])
    assert result.exit_code == 0, result.output
    assert api.requests == [("POST", "/jobs/invoices", {"json": {"jobType": "AUTOMATIC", "siteCode": "fr"}})]


def test_invoices_list_with_a_site_filters_by_it(api: RecordingApi) -> None:
    result = CliRunner().invoke(app, ["invoices", "list", "--site", "fr", *CREDENTIALS])
    assert result.exit_code == 0, result.output
    [(method, path, options)] = api.requests
    assert (method, path, options["params"]["siteCode"]) == ("GET", "/invoices", "fr")
