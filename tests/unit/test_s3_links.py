"""The project's S3 link signer against botocore's own SigV4 query signer, for the same moment."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import botocore.auth
import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from infra.s3_links import S3LinkSigner

MOMENT = datetime(2026, 11, 29, 23, 30, 18, tzinfo=UTC)


@pytest.fixture(autouse=True)
def botocore_at_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore signs at MOMENT instead of the clock."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: MOMENT.replace(tzinfo=None))


def botocore_link(url: str, region: str, secret: str = "wJalrXUtnFEMI/K7MDENG", ttl: int = 900) -> str:
    request = AWSRequest(method="GET", url=url)
    key = "AKIDEXAMPLE" if secret != "s" else "a"
    S3SigV4QueryAuth(Credentials(key, secret), "s3", region, expires=ttl).add_auth(request)
    return str(request.prepare().url)


@pytest.mark.parametrize(
    ("endpoint_url", "base"),
    [
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000/invoices"),
        (None, "https://invoices.s3.eu-central-1.amazonaws.com"),
    ],
)
@pytest.mark.parametrize("key", ["shop/invoices/INV-1.pdf", "shop/invoices/A%2F2026%20%C3%A4.pdf", "t/i/~x_y-z.pdf"])
def test_links_are_signed_as_botocore_signs_them(endpoint_url: str | None, base: str, key: str) -> None:
    region = "eu-central-1"
    signer = S3LinkSigner(
        endpoint_url=endpoint_url,
        bucket="invoices",
        region=region,
        access_key="AKIDEXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG",
        ttl=900,
    )
    ours = signer.link(key, now=MOMENT)
    theirs = botocore_link(ours.split("?", 1)[0], region)
    assert urlsplit(ours).path == urlsplit(theirs).path
    assert parse_qs(urlsplit(ours).query) == parse_qs(urlsplit(theirs).query)
    assert ours.startswith(base + "/")


def test_a_new_day_gets_a_new_signing_key() -> None:
    signer = S3LinkSigner(
        endpoint_url="http://127.0.0.1:9000", bucket="b", region="us-east-1", access_key="a", secret_key="s", ttl=60
    )
    today = signer.link("k.pdf", now=MOMENT)
    tomorrow = signer.link("k.pdf", now=MOMENT.replace(day=30))
    assert parse_qs(urlsplit(today).query)["X-Amz-Signature"] != parse_qs(urlsplit(tomorrow).query)["X-Amz-Signature"]
    assert botocore_link(today.split("?", 1)[0], "us-east-1", secret="s", ttl=60).endswith(today.rsplit("&", 1)[1])
