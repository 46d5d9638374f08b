"""API clients of the OAuth2 client-credentials flow: each bound to one tenant and a set of scopes.

The secret is shown once, when the client is made; only a salted scrypt hash is stored, and it is
compared in constant time.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from infra.db import Document
from schemas.events import utc_now

SCOPE_MANAGE = "invoice.invoice_manage"
SCOPE_READ = "invoice.invoice_read"
SCOPES = {
    SCOPE_MANAGE: "Create invoice jobs and change the tenant's settings",
    SCOPE_READ: "Read invoice jobs and the tenant's settings",
}

# scrypt at n=2**14, r=8 costs some 16 MiB and tens of milliseconds per check: cheap for a client that
# asks for a token now and then, slow for anyone guessing.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    encode = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(digest).decode()}"


@dataclass(frozen=True)
class SecretHash:
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes


def parse_hash(stored_hash: str) -> SecretHash | None:
    """The parts of a hash that hash_secret made; None for anything else."""
    try:
        kind, n, r, p, salt, digest = stored_hash.split("$")
        if kind != "scrypt":
            return None
        return SecretHash(int(n), int(r), int(p), base64.b64decode(salt), base64.b64decode(digest))
    except ValueError:  # binascii.Error is a ValueError
        return None


def secret_matches(secret: str, stored_hash: str) -> bool:
    parsed = parse_hash(stored_hash)
    if parsed is None:
        return False
    actual = hashlib.scrypt(secret.encode(), salt=parsed.salt, n=parsed.n, r=parsed.r, p=parsed.p)
    return hmac.compare_digest(actual, parsed.digest)


@cache
def unknown_client_hash() -> str:
    """What a secret sent with an unknown client ID is checked against: a real hash of a random secret,
    made like every client's, so the check costs what a known client's does and the answer's timing
    does not tell which client IDs exist."""
    return hash_secret(secrets.token_urlsafe(32))


def unknown_scopes(scopes: set[str]) -> set[str]:
    return scopes - SCOPES.keys()


@dataclass(frozen=True)
class Client:
    client_id: str
    tenant: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None
    secret_hash: str
    secret_rotated_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def honours_token(self, tenant: str, issued_at: datetime | None) -> bool:
        """Whether a token this service issued for the client still stands: not revoked, for the
        client's tenant, and not issued before the client's secret was last rotated."""
        if not self.active or tenant != self.tenant:
            return False
        return self.secret_rotated_at is None or (issued_at is not None and issued_at >= self.secret_rotated_at)

    @classmethod
    def from_document(cls, doc: Document) -> "Client":
        return cls(
            client_id=doc["_id"],
            tenant=doc["tenant"],
            scopes=frozenset(doc["scopes"]),
            created_at=doc["createdAt"],
            revoked_at=doc.get("revokedAt"),
            secret_hash=doc["secretHash"],
            secret_rotated_at=doc.get("secretRotatedAt"),
        )


class ClientRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.clients: AsyncCollection[Document] = db.api_clients

    async def create(self, tenant: str, scopes: set[str]) -> tuple[Client, str]:
        """A new client and its secret (returned this once, never stored)."""
        if unknown := unknown_scopes(scopes):
            raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}; known: {', '.join(SCOPES)}")
        secret = secrets.token_urlsafe(32)
        doc = {
            "_id": f"ic-{secrets.token_hex(10)}",
            "tenant": tenant,
            "scopes": sorted(scopes),
            "createdAt": utc_now(),
            "revokedAt": None,
            "secretHash": hash_secret(secret),
        }
        await self.clients.insert_one(doc)
        return Client.from_document(doc), secret

    async def find(self, client_id: str) -> Client | None:
        doc = await self.clients.find_one({"_id": client_id})
        return None if doc is None else Client.from_document(doc)

    async def list(self) -> list[Client]:
        return [Client.from_document(doc) async for doc in self.clients.find({}).sort("createdAt", 1)]

    async def rotate(self, client_id: str) -> str | None:
        """A new secret for an active client (returned this once), or None when there is none. The old
        secret gets no token from now on; the API refuses tokens issued before, within client_check_seconds."""
        secret = secrets.token_urlsafe(32)
        result = await self.clients.update_one(
            {"_id": client_id, "revokedAt": None},
            {"$set": {"secretHash": hash_secret(secret), "secretRotatedAt": utc_now()}},
        )
        return secret if result.matched_count == 1 else None

    async def revoke(self, client_id: str) -> bool:
        """No new tokens for the client; the API refuses those it has within client_check_seconds."""
        result = await self.clients.update_one({"_id": client_id}, {"$set": {"revokedAt": utc_now()}})
        return result.matched_count == 1


class ClientLookup(Protocol):
    async def find(self, client_id: str) -> Client | None: ...


class CachedClients:
    """Clients by ID as the API's token check sees them: read from the store at most once per
    `max_age` per client ID in each process, so a revoked client's tokens are refused within that
    bound and a busy client costs one read per `max_age`, not one per request."""

    MAX_ENTRIES = 10_000  # bounded memory whatever client IDs the tokens name

    def __init__(self, clients: ClientLookup, max_age: timedelta, clock: Callable[[], datetime] = utc_now) -> None:
        self.clients = clients
        self.max_age = max_age
        self.clock = clock
        self.entries: dict[str, tuple[datetime, Client | None]] = {}

    async def find(self, client_id: str) -> Client | None:
        now = self.clock()
        entry = self.entries.get(client_id)
        if entry is not None and now - entry[0] < self.max_age:
            return entry[1]
        client = await self.clients.find(client_id)
        if len(self.entries) >= self.MAX_ENTRIES:
            self.entries.clear()
        self.entries[client_id] = (now, client)
        return client
