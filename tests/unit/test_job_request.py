import pytest

from schemas.api import JobRequest
from service.errors import ApiError
from service.routes.jobs import requested_order_ids


def ids(body: dict[str, object], limit: int = 5) -> list[str]:
    return requested_order_ids(JobRequest.model_validate(body), limit)


def test_duplicates_kept_once_in_order() -> None:
    assert ids({"jobType": "MANUAL", "orderIds": ["b", "a", "b", "c", "a"]}) == ["b", "a", "c"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"jobType": "MANUAL"}, "orderIds is required"),
        ({"jobType": "MANUAL", "orderIds": []}, "orderIds is required"),
        ({"jobType": "MANUAL", "orderIds": list("abcdef")}, "Too many orderIds: 6 given, at most 5"),
        ({"jobType": "MANUAL", "orderIds": ["a", " "]}, "orderIds[1] is empty"),
        ({"jobType": "MANUAL", "orderIds": ["x" * 65]}, "longer than 64"),
        ({"jobType": "AUTOMATIC", "orderIds": ["a"]}, "must not be given for an AUTOMATIC job"),
    ],
)
def test_bad_requests(body: dict[str, object], message: str) -> None:
    with pytest.raises(ApiError) as raised:
        ids(body)
    assert raised.value.status == 400
    assert message in raised.value.message


def test_sixty_four_characters_allowed() -> None:
    assert ids({"jobType": "MANUAL", "orderIds": ["x" * 64]}) == ["x" * 64]
