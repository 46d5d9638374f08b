"""Every error the API answers is an `ErrorResponse` (message, code, detailInfo): never a stack trace.

Client mistakes are 400 (FastAPI's own 422 included: the contract speaks only of 400), a missing
dependency is 503, and anything unexpected is a 500 whose details stay in the log.
"""

import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException

from infra.kafka import KafkaUnavailable
from schemas.api import ErrorResponse
from service.services import Conflict, InvalidRequest, NotFound, Unconfirmed

log = logging.getLogger(__name__)

# The `responses` of path operations: each error status is documented as an ErrorResponse.
ERROR: dict[str, Any] = {"model": ErrorResponse}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: ERROR for status in statuses}


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, detail: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail
        self.headers = headers


def error_response(
    status: int, message: str, detail: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorResponse(message=message, code=str(status), detailInfo=detail)
    return JSONResponse(status_code=status, content=body.model_dump(exclude_none=True), headers=headers)


def _field(location: Sequence[Any]) -> str:
    """`orderIds.0` from pydantic's ("body", "orderIds", "list[str]", 0): where it is, without the
    request part or the names pydantic gives to the branches of a union."""
    parts = [str(p) for p in location[1:] if isinstance(p, int) or (p.isidentifier() and p != "none")]
    return ".".join(parts)


def describe_validation_errors(errors: Sequence[Any]) -> tuple[str, str]:
    """One readable sentence for the message, and the field-by-field list for detailInfo."""
    details: list[str] = []
    listed: list[dict[str, Any]] = []
    for error in errors:
        entry = {"loc": list(error.get("loc", ())), "msg": error.get("msg"), "type": error.get("type")}
        # A parameter that a route and its dependencies both declare (the path's tenant) is checked, and
        # reported, once by each: list it once.
        if entry not in listed:
            listed.append(entry)
        kind, location = error.get("type"), _field(error.get("loc", ()))
        if kind == "none_required":
            continue  # the "or absent" branch of an optional field: the other branch says what is wrong
        if kind == "json_invalid":
            text = "request body: not valid JSON"
        elif kind == "missing" and location == "":
            text = "request body: missing; a JSON object is required"
        elif kind == "model_attributes_type":
            text = "request body: must be a JSON object (Content-Type: application/json)"
        else:
            # Our own validators' messages are sentences already; pydantic prefixes them with "Value error, ".
            reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            text = f"{location or 'request body'}: {reason}"
        if text not in details:
            details.append(text)
    return "Invalid request: " + "; ".join(details), json.dumps(listed)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.message, error.detail, error.headers)

    @app.exception_handler(InvalidRequest)
    async def invalid(_: Request, error: InvalidRequest) -> JSONResponse:
        return error_response(400, str(error))

    @app.exception_handler(NotFound)
    async def not_found(_: Request, error: NotFound) -> JSONResponse:
        return error_response(404, str(error))

    @app.exception_handler(Conflict)
    async def conflict(_: Request, error: Conflict) -> JSONResponse:
        return error_response(409, str(error), error.detail)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        message, detail = describe_validation_errors(error.errors())
        return error_response(400, message, detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return error_response(error.status_code, str(error.detail))

    @app.exception_handler(KafkaUnavailable)
    async def kafka_down(_: Request, error: KafkaUnavailable) -> JSONResponse:
        log.warning("kafka unavailable: %s", error)
        return error_response(503, "Service unavailable: Kafka is not reachable; nothing was created")

    @app.exception_handler(Unconfirmed)
    async def unconfirmed(_: Request, error: Unconfirmed) -> JSONResponse:
        # Not "nothing was created": the request is recorded and may be on the topic (README "Under faults").
        return error_response(503, f"Service unavailable: {error}")

    @app.exception_handler(ConnectionFailure)
    async def mongo_down(_: Request, error: ConnectionFailure) -> JSONResponse:
        log.warning("mongodb unavailable: %s", type(error).__name__)
        return error_response(503, "Service unavailable: MongoDB is not reachable; nothing was created")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        reference = uuid.uuid4().hex[:12]
        log.exception("unhandled error, reference %s", reference)
        return error_response(500, "Internal server error", f"reference {reference}")
