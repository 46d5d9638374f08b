"""The API over in-memory fakes, built by the composition root (`bootstrap.api.build_api`): no Kafka,
MongoDB or storage. The one way unit tests build the app: `FakeApi.build(...)`, then `api.http` (a
TestClient) with `api.token(...)` headers."""

import ipaddress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bootstrap.api import build_api, login_backoff
from infra.clients import SCOPES, CachedClients, Client, hash_secret
from infra.links import LinkSigner
from infra.settings import Settings
from infra.tokens import TokenService
from invoicing.webhook_urls import IPAddress, literal_address
from service.dependencies import ApiResources
from tests.memory import (
    MemoryCreditNotes,
    MemoryInvoices,
    MemoryJobs,
    MemoryPublisher,
    MemoryStorage,
    MemoryTenantSettings,
    MemoryWebhooks,
    MemoryWindowedCounters,
)

KEY = "unit-test-key-" + "k" * 32
SECRET = "the-right-secret"
START = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
TENANT = "shop"


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class MemoryClients:
    """The API's view of ClientRepository: find by ID; `revoke` and `rotate` as the CLI does."""

    clients: dict[str, Client] = field(default_factory=dict)

    async def find(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def add(self, client_id: str, tenant: str = TENANT, scopes: frozenset[str] = frozenset(SCOPES)) -> Client:
        client = Client(client_id, tenant, scopes, START, None, hash_secret(SECRET))
        self.clients[client_id] = client
        return client

    def revoke(self, client_id: str, at: datetime) -> None:
        self.clients[client_id] = replace(self.clients[client_id], revoked_at=at)

    def rotate(self, client_id: str, secret: str) -> None:
        rotated = replace(self.clients[client_id], secret_hash=hash_secret(secret), secret_rotated_at=datetime.now(UTC))
        self.clients[client_id] = rotated


# What the fake API resolves webhook hosts to: *.internal.example to a private address, any other name to a
# public documentation-free address; IP literals to themselves (no DNS in unit tests).
async def fake_resolve(host: str, port: int) -> list[IPAddress]:
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    return [ipaddress.ip_address("10.1.2.3" if host.endswith(".internal.example") else "93.184.215.14")]


def fake_settings(**overrides: Any) -> Settings:
    return Settings(jwt_signing_key=SecretStr(KEY), **overrides)


@dataclass
class FakeApi:
    app: FastAPI
    resources: ApiResources
    clock: Clock
    clients: MemoryClients
    counters: MemoryWindowedCounters
    jobs: MemoryJobs
    invoices: MemoryInvoices
    credit_notes: MemoryCreditNotes
    tenant_settings: MemoryTenantSettings
    publisher: MemoryPublisher
    storage: MemoryStorage

    @classmethod
    def build(cls, settings: Settings | None = None, **overrides: Any) -> "FakeApi":
        """The app over fresh fakes; `overrides` replace fields of its ApiResources (a failing store, ...)."""
        settings = settings or fake_settings()
        clock, clients, counters = Clock(), MemoryClients(), MemoryWindowedCounters()
        jobs, invoices, credit_notes = MemoryJobs(), MemoryInvoices(), MemoryCreditNotes()
        tenant_settings, publisher, storage = MemoryTenantSettings(), MemoryPublisher(), MemoryStorage()
        resources = ApiResources(
            settings=settings,
            jobs=jobs,
            invoices=invoices,
            tenant_settings=tenant_settings,
            publisher=publisher,
            storage=storage,
            signer=LinkSigner(settings),
            tokens=TokenService(settings),
            clients=clients,
            credit_notes=credit_notes,
            counters=counters,
            login_backoff=login_backoff(settings, counters, clock),
            client_checks=CachedClients(clients, timedelta(seconds=settings.client_check_seconds), clock=clock),
            health_checks={"storage": storage.check},
            clock=clock,
            webhooks=MemoryWebhooks(),
            resolve=fake_resolve,
        )
        resources = replace(resources, **overrides)
        app = build_api(settings, resources)
        return cls(
            app, resources, clock, clients, counters, jobs, invoices, credit_notes, tenant_settings, publisher, storage
        )

    @property
    def settings(self) -> Settings:
        return self.resources.settings

    @property
    def tokens(self) -> TokenService:
        return self.resources.tokens

    @property
    def http(self) -> TestClient:
        return self.caller("testclient")

    def caller(self, address: str) -> TestClient:
        """A client of the API whose requests come from `address` (the TCP peer's address)."""
        return TestClient(self.app, client=(address, 50000), raise_server_exceptions=True)

    def token(
        self, client_id: str = "tests", tenant: str = TENANT, scopes: frozenset[str] | None = None
    ) -> dict[str, str]:
        """Authorization headers of a token of `tenant` with `scopes` (all of them by default)."""
        token, _ = self.tokens.issue(
            client_id=client_id, tenant=tenant, scopes=frozenset(SCOPES) if scopes is None else scopes
        )
        return {"Authorization": f"Bearer {token}"}
