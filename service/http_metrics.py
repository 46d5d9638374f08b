"""HTTP metrics of the API: requests by route template, method and status, and their latency.

A pure ASGI middleware rather than Starlette's BaseHTTPMiddleware (which buffers streamed answers). The
route template (`/invoice/{tenant}/jobs/invoices/{jobId}`), never the raw path, is the label: raw paths
carry tenant and job IDs, one time series each. Paths no route matched count as `unmatched`.
"""

import time

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS


class HttpMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception that escapes every handler is answered 500 by the server

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            HTTP_REQUESTS.labels(template, method, str(status)).inc()
            HTTP_REQUEST_SECONDS.labels(template, method).observe(time.perf_counter() - started)


async def metrics(request: Request) -> Response:
    """GET /metrics in the Prometheus text format. No token: it holds no tenant data (tenant labels only
    with INVOICE_METRICS_TENANT_LABELS), and in Kubernetes only Prometheus inside the cluster reaches it."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
