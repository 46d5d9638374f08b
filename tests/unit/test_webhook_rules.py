"""The webhook rules without I/O: signatures the standardwebhooks package verifies, rotation overlap, the
retry schedule, delivery IDs, and which URLs and addresses may be called."""

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from invoicing.webhook_urls import UnsafeUrl, check_addresses, forbidden_reason, parse_webhook_url
from invoicing.webhooks import (
    RETRY_SCHEDULE,
    Delivery,
    DeliveryState,
    Endpoint,
    SigningSecret,
    delivery_id,
    new_secret,
    schedule_length,
    webhook_headers,
)

# standardwebhooks checks the timestamp against the wall clock (5 min tolerance), so each test signs at the
# time it runs, not at the suite's import (the integration tests before it take longer than that).
NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def now_is_now() -> None:
    global NOW
    NOW = datetime.now(UTC)


def endpoint(*secrets: SigningSecret) -> Endpoint:
    return Endpoint(
        "ep_1", "shop", "https://erp.example/hook", frozenset({"invoice.issued"}), True,
        secrets or (SigningSecret(new_secret()),), NOW, NOW,
    )  # fmt: skip


def test_a_signed_delivery_verifies_with_the_standardwebhooks_package() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    body = b'{"type":"invoice.issued","data":{"invoiceNumber":"INV-1"}}'
    headers = webhook_headers((secret,), "msg_1", NOW, body)
    assert Webhook(secret).verify(body, headers) == {"type": "invoice.issued", "data": {"invoiceNumber": "INV-1"}}
    assert headers["webhook-id"] == "msg_1" and headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_during_the_overlap_both_secrets_sign_and_after_it_only_the_new_one() -> None:
    old = endpoint()
    old_secret = old.secrets[0].secret
    rotated = old.rotated(new_secret(), NOW, timedelta(hours=24))
    new_secret_ = rotated.secrets[0].secret
    assert rotated.signing_secrets(NOW) == (new_secret_, old_secret)
    body = b"{}"
    headers = webhook_headers(rotated.signing_secrets(NOW), "msg_2", NOW, body)
    assert headers["webhook-signature"].count("v1,") == 2
    Webhook(old_secret).verify(body, headers)
    Webhook(new_secret_).verify(body, headers)
    assert rotated.signing_secrets(NOW + timedelta(hours=24)) == (new_secret_,)
    # A second rotation during the overlap keeps the first secret's own expiry.
    twice = rotated.rotated(new_secret(), NOW + timedelta(hours=1), timedelta(hours=24))
    assert [s.expires_at for s in twice.secrets] == [None, NOW + timedelta(hours=25), NOW + timedelta(hours=24)]


def test_the_delivery_id_depends_on_event_and_endpoint_only() -> None:
    assert delivery_id("ev1", "ep1") == delivery_id("ev1", "ep1")
    assert len({delivery_id("ev1", "ep1"), delivery_id("ev2", "ep1"), delivery_id("ev1", "ep2")}) == 3


def test_failures_follow_the_schedule_then_the_delivery_fails() -> None:
    assert RETRY_SCHEDULE[:5] == (
        timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=5)
    )  # fmt: skip
    assert timedelta(days=2) < schedule_length() <= timedelta(days=3)
    delivery = Delivery("msg_1", "shop", "ep_1", "ev1", "invoice.issued", "{}", NOW, NOW)
    at = NOW
    for wait in RETRY_SCHEDULE:
        delivery = delivery.failed(at, 500, "HTTP 500")
        assert delivery.state is DeliveryState.PENDING and delivery.next_attempt_at == at + wait
        at += wait
    delivery = delivery.failed(at, 503, "HTTP 503", "x" * 5000)
    assert delivery.state is DeliveryState.FAILED and delivery.next_attempt_at is None
    assert delivery.attempts == len(RETRY_SCHEDULE) + 1 and delivery.last_status == 503
    assert len(delivery.last_response or "") == 1024
    replayed = delivery.replayed(at)
    assert (replayed.state, replayed.step, replayed.next_attempt_at) == (DeliveryState.PENDING, 0, at)
    done = replayed.succeeded(at, 204, "")
    assert (done.state, done.attempts, done.next_attempt_at) == (DeliveryState.DELIVERED, len(RETRY_SCHEDULE) + 2, None)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("100.64.0.1", "shared address space (CGNAT)"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "private"),  # reserved (class E): Python counts it private
        ("198.18.0.1", "private"),  # benchmarking
        ("192.0.2.1", "private"),  # documentation (TEST-NET-1): Python counts it private
        ("::ffff:127.0.0.1", "loopback (inside ::ffff:7f00:1)"),
        ("::ffff:10.0.0.1", "private (inside ::ffff:a00:1)"),
        ("::ffff:169.254.169.254", "a cloud metadata address (inside ::ffff:a9fe:a9fe)"),
        ("64:ff9b::a00:1", "private (inside 64:ff9b::a00:1)"),
        ("2002:a00:1::1", "private (inside 2002:a00:1::1)"),
    ],
)
def test_every_class_of_internal_address_is_refused(address: str, reason: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) == reason
    with pytest.raises(UnsafeUrl, match="which is"):
        check_addresses("h.example", [ipaddress.ip_address(address)], allow_private=False)
    assert check_addresses("h.example", [ipaddress.ip_address(address)], allow_private=True)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


def test_one_internal_address_among_public_ones_refuses_the_host() -> None:
    addresses = [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.1.2.3")]
    with pytest.raises(UnsafeUrl, match=r"10\.1\.2\.3"):
        check_addresses("mixed.example", addresses, allow_private=False)
    with pytest.raises(UnsafeUrl, match="no address"):
        check_addresses("none.example", [], allow_private=False)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://erp.example/hook", "must be https"),
        ("ftp://erp.example/hook", "must be https"),
        ("https://user:pw@erp.example/hook", "user name or password"),
        ("https://erp.example/hook#x", "fragment"),
        ("https:///hook", "no host"),
        ("https://erp.example:99999/", "not a valid URL"),
        ("https://erp.example/a b", "spaces or control"),
        ("https://erp.example/" + "a" * 2048, "longer than"),
    ],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(UnsafeUrl, match=message):
        parse_webhook_url(url, allow_http=False)


def test_urls_are_parsed_for_the_connection() -> None:
    parsed = parse_webhook_url("https://ERP.example./in/hook?x=1", allow_http=False)
    assert (parsed.host, parsed.port, parsed.target) == ("erp.example", 443, "/in/hook?x=1")
    plain = parse_webhook_url("http://[::1]:8080", allow_http=True)
    assert (plain.scheme, plain.host, plain.port, plain.target) == ("http", "::1", 8080, "/")
