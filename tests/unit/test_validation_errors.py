"""How validation errors are put into an ErrorResponse."""

import json

from service.errors import describe_validation_errors


def test_an_error_reported_twice_is_listed_once() -> None:
    # FastAPI reports a path parameter once per declaration: the route's and each dependency's.
    tenant = {"type": "string_too_short", "loc": ("path", "tenant"), "msg": "String should have at least 3 characters"}
    body = {"type": "missing", "loc": ("body",), "msg": "Field required"}

    message, detail = describe_validation_errors([tenant, tenant, body])

    assert json.loads(detail) == [
        {"loc": ["path", "tenant"], "msg": "String should have at least 3 characters", "type": "string_too_short"},
        {"loc": ["body"], "msg": "Field required", "type": "missing"},
    ]
    assert message.count("tenant: String should have at least 3 characters") == 1
