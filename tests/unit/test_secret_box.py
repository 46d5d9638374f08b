"""Webhook secrets sealed at rest (infra/secret_box.py): AES-GCM round trip, a fresh nonce each time, the
wrong key or an edited value refused, unsealed values (stored without a key) read as they are."""

import pytest
from cryptography.exceptions import InvalidTag

from infra.secret_box import NoBox, SecretBox
from invoicing.webhooks import new_secret


def test_a_sealed_secret_opens_with_its_key_only() -> None:
    box, secret = SecretBox("operator-key-" + "k" * 32), new_secret()
    sealed = box.seal(secret)
    assert sealed.startswith("enc:v1:") and secret not in sealed and sealed != box.seal(secret)
    assert box.open(sealed) == secret
    with pytest.raises(InvalidTag):
        SecretBox("another-key").open(sealed)
    edited = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(InvalidTag):
        box.open(edited)


def test_values_stored_without_a_key_are_read_as_they_are() -> None:
    secret = new_secret()
    assert SecretBox("k").open(secret) == secret
    assert NoBox().seal(secret) == secret == NoBox().open(secret)
    with pytest.raises(ValueError, match="INVOICE_WEBHOOKS_SECRET_KEY"):
        NoBox().open(SecretBox("k").seal(secret))
