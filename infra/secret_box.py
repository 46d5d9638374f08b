"""Webhook signing secrets encrypted at rest: AES-256-GCM under a key of the operator's
(INVOICE_WEBHOOKS_SECRET_KEY; the AES key is its SHA-256). The service must sign with the secrets, so it
keeps them, but a copy of the store alone no longer holds them. A stored value is `enc:v1:` and base64 of
nonce and ciphertext; a value without that prefix (stored without a key) is read as it is."""

import base64
import hashlib
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc:v1:"


class SecretBox:
    def __init__(self, key: str) -> None:
        self.aead = AESGCM(hashlib.sha256(key.encode()).digest())

    def seal(self, secret: str) -> str:
        nonce = os.urandom(12)
        return PREFIX + base64.b64encode(nonce + self.aead.encrypt(nonce, secret.encode(), None)).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored
        raw = base64.b64decode(stored.removeprefix(PREFIX))
        return self.aead.decrypt(raw[:12], raw[12:], None).decode()


class NoBox:
    """Without a key: stored as given (local runs); sealed values cannot be read without their key."""

    def seal(self, secret: str) -> str:
        return secret

    def open(self, stored: str) -> str:
        if stored.startswith(PREFIX):
            raise ValueError("a webhook secret is encrypted, but INVOICE_WEBHOOKS_SECRET_KEY is not set")
        return stored
