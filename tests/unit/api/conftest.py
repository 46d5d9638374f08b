"""The API over in-memory fakes (tests/api_fakes.py): `fake` to seed and inspect the stores, `api` an
HTTP client that signs each /invoice/{tenant}/ request with a token of that tenant (every scope), as the
integration tests' `api` does over the real services."""

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api_fakes import TENANT, FakeApi
from tests.support import TenantTokens


@pytest.fixture
def fake() -> FakeApi:
    return FakeApi.build()


@pytest.fixture
async def api(fake: FakeApi) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=fake.app)
    auth = TenantTokens(fake.settings)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", auth=auth) as client:
        yield client


@pytest.fixture
def tenant() -> str:
    return TENANT
