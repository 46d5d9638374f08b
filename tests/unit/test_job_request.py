import pytest
from pydantic import ValidationError

from infra.links import LinkSigner
from infra.settings import Settings
from schemas.api import JobRequest
from service import services
from tests.memory import MemoryJobs, MemoryPublisher, MemoryStorage, MemoryTenantSettings


def ids(body: dict[str, object]) -> list[str]:
    return JobRequest.model_validate(body).distinct_order_ids()


def test_duplicates_kept_once_in_order() -> None:
    assert ids({"jobType": "MANUAL", "orderIds": ["b", "a", "b", "c", "a"]}) == ["b", "a", "c"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"jobType": "MANUAL"}, "orderIds is required"),
        ({"jobType": "MANUAL", "orderIds": []}, "orderIds is required"),
        ({"jobType": "MANUAL", "orderIds": ["a", " "]}, "orderIds[1] is empty"),
        ({"jobType": "MANUAL", "orderIds": ["x" * 65]}, "longer than 64"),
        ({"jobType": "AUTOMATIC", "orderIds": ["a"]}, "must not be given for an AUTOMATIC job"),
    ],
)
def test_bad_requests(body: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        ids(body)
    assert message in str(raised.value)


def test_sixty_four_characters_allowed() -> None:
    assert ids({"jobType": "MANUAL", "orderIds": ["x" * 64]}) == ["x" * 64]


async def test_the_most_order_ids_per_job_is_a_setting() -> None:
    jobs = MemoryJobs()
    settings = Settings(max_order_ids=5)
    app = services.JobServices(
        settings=settings,
        jobs=jobs,
        tenant_settings=MemoryTenantSettings(),
        publisher=MemoryPublisher(),
        storage=MemoryStorage(),
        signer=LinkSigner(settings),
    )
    request = JobRequest.model_validate({"jobType": "MANUAL", "orderIds": list("abcdef")})
    with pytest.raises(services.InvalidRequest, match="Too many orderIds: 6 given, at most 5"):
        await services.create_job(app, "shop", request)
    assert jobs.jobs == {}
