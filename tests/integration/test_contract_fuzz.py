"""The seed contract (schemas/contract/invoice-api.yaml) fuzzed with schemathesis against the live API: a
real uvicorn process on 127.0.0.1. Every operation of the contract, with data that fits its schema and
data that does not, called with a token of the path's tenant, with no token, and with a token of another
tenant. Each answer must be one the contract documents for that operation (or a documented extension,
listed below with its reason), never a 5xx, and its body must conform to the documented schema.

Bounded and repeatable for CI: a fixed number of examples per operation, derandomized generation.
"""

import json
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case as SchemathesisCase
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from infra.clients import SCOPES
from infra.settings import Settings
from infra.tokens import TokenService
from schemas.api import ErrorResponse
from tests.support import ROOT, ApiProcess

pytestmark = pytest.mark.integration
Case = SchemathesisCase[Any]

CONTRACT = ROOT / "schemas" / "contract" / "invoice-api.yaml"
EXAMPLES_PER_RUN = 80  # per operation, per kind of caller, per generation mode: ~1,000 requests, ~15 s
OTHER_TENANT = "othertenant"

# Answers the contract does not document but the README's "Extensions to the contract" does, for every
# operation: 401 for a missing or invalid token (the contract has no security scheme; the service does),
# 503 when Kafka or MongoDB cannot take the request (nothing is left half-made), 413 for a request body
# over the size limit, 429 beyond the tenant's job quota (the fuzzer repeats its simplest tenants).
EXTENSION_STATUSES = {401, 413, 429, 503}


class Caller(StrEnum):
    OWN_TENANT = "own-tenant"  # a token of whichever tenant the path names, holding every scope
    ANONYMOUS = "anonymous"  # no Authorization header at all
    OTHER_TENANT = "other-tenant"  # a valid token, every scope, of a tenant the path does not name


@pytest.fixture(scope="module")
def live_api(service_env: dict[str, str], run_id: str, s3_bucket: str) -> Iterator[ApiProcess]:
    api = ApiProcess(service_env, f"test-api-fuzz-{run_id}")
    api.start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def contract() -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_path(str(CONTRACT))


def headers_for(caller: Caller, tokens: TokenService, case: Case) -> dict[str, str]:
    if caller is Caller.ANONYMOUS:
        return {}
    tenant = OTHER_TENANT if caller is Caller.OTHER_TENANT else str(case.path_parameters.get("tenant", ""))
    token, _ = tokens.issue(client_id="fuzz-client", tenant=tenant, scopes=frozenset(SCOPES))
    return {"Authorization": f"Bearer {token}"}


def check_answer(case: Case, response: Any) -> None:
    """What schemathesis checks (no 5xx, content type and body as documented), then the status code
    against the contract plus the documented extensions, and every error's body as an ErrorResponse."""
    case.validate_response(response, checks=[not_a_server_error, content_type_conformance, response_schema_conformance])
    documented = {int(code) for code in case.operation.responses.status_codes if code.isdigit()}
    request = f"{case.method} {response.request.url}"
    assert response.status_code in documented | EXTENSION_STATUSES, (
        f"{request} answered {response.status_code}, documented {sorted(documented)}: {response.text[:500]}"
    )
    if response.status_code >= 400:
        error = ErrorResponse.model_validate_json(response.content)
        assert error.code == str(response.status_code), f"{request}: {response.text[:500]}"
        details = json.loads(error.detailInfo) if error.detailInfo and error.detailInfo.startswith("[") else []
        assert len(details) == len({json.dumps(d, sort_keys=True) for d in details}), f"{request}: repeated {details}"


def fuzz(strategy: Any, call: Any) -> None:
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_RUN,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Case) -> None:
        call(case)

    run()


@pytest.mark.parametrize("caller", list(Caller))
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_contract_operations(
    contract: schemathesis.BaseSchema, live_api: ApiProcess, settings: Settings, caller: Caller, mode: GenerationMode
) -> None:
    tokens = TokenService(settings)
    operations = [result.ok() for result in contract.get_all_operations() if isinstance(result, Ok)]
    assert {(op.method.upper(), op.path) for op in operations} == {
        ("POST", "/invoice/{tenant}/jobs/invoices"),
        ("GET", "/invoice/{tenant}/jobs/invoices/{jobId}"),
    }
    with requests.Session() as session:

        def call(case: Case) -> None:
            response = case.call(base_url=live_api.url, session=session, headers=headers_for(caller, tokens, case))
            check_answer(case, response)

        for operation in operations:
            fuzz(operation.as_strategy(generation_mode=mode), call)


def test_existing_jobs_conform(contract: schemathesis.BaseSchema, live_api: ApiProcess, settings: Settings) -> None:
    """Random job IDs are all 404s: read real ones (IN_PROGRESS, no worker here) through the fuzzer too."""
    tenant = "fuzzshop"
    token, _ = TokenService(settings).issue(client_id="fuzz-client", tenant=tenant, scopes=frozenset(SCOPES))
    auth = {"Authorization": f"Bearer {token}"}
    job_ids = []
    for order_ids in (["a"], ["o-1", "o-2", "o-1"], [f"o{i}" for i in range(50)]):
        created = httpx.post(
            f"{live_api.url}/invoice/{tenant}/jobs/invoices",
            json={"jobType": "MANUAL", "orderIds": order_ids},
            headers=auth,
        )
        assert created.status_code == 201, created.text
        job_ids.append(created.json()["jobId"])
    operation = contract["/invoice/{tenant}/jobs/invoices/{jobId}"]["GET"]
    strategy = st.sampled_from(job_ids).flatmap(
        lambda job_id: operation.as_strategy(path_parameters={"tenant": tenant, "jobId": job_id})
    )
    with requests.Session() as session:

        def call(case: Case) -> None:
            response = case.call(base_url=live_api.url, session=session, headers=auth)
            assert response.status_code == 200, response.text
            check_answer(case, response)

        fuzz(strategy, call)
