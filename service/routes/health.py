"""GET /health: each dependency's state; 503 naming what is down. GET /health/live: the process answers."""

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.dependencies import AppSettings, HealthChecks

router = APIRouter(tags=["Operations (extension)"])


async def probe(check: Callable[[], Awaitable[None]], timeout: float) -> str:
    try:
        await asyncio.wait_for(check(), timeout)
    except Exception as error:  # any failure means down; the type says why without leaking secrets
        return f"down: {type(error).__name__}"
    return "up"


@router.get("/health", operation_id="GET-health", summary="Liveness and the state of Kafka, MongoDB and storage")
async def health(settings: AppSettings, checks: HealthChecks) -> JSONResponse:
    timeout = settings.kafka_timeout_seconds
    states = await asyncio.gather(*(probe(check, timeout) for check in checks.values()))
    dependencies = dict(zip(checks, states, strict=True))
    down = [name for name, state in dependencies.items() if state != "up"]
    body = {"status": "down" if down else "up", "dependencies": dependencies}
    if down:
        body["message"] = "Unavailable: " + ", ".join(down)
    return JSONResponse(status_code=503 if down else 200, content=body)


@router.get("/health/live", operation_id="GET-health-live", summary="Liveness: answers without checking any dependency")
async def live() -> dict[str, str]:
    # A liveness probe that checked Kafka or MongoDB would restart every API pod during their outage,
    # which fixes nothing; /health (readiness) takes the pods out of the Service instead.
    return {"status": "up"}
