"""POSTing one webhook attempt, without becoming an open proxy (the rules: invoicing/webhook_urls.py).

The host is resolved and every address checked at each attempt (DNS can change after registration), and
the connection goes to the address that was checked: the request is sent to that IP, with the name in
`Host` and in TLS's SNI (and the certificate checked against the name), so a DNS answer that changes
between the check and the connect (rebinding) cannot win. No redirects are followed (a 3xx is a failed
attempt), no proxy from the environment is used, the whole attempt has a deadline, and at most
RESPONSE_PREFIX_BYTES of the answer are read.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from infra.settings import Settings
from invoicing.webhook_urls import IPAddress, UnsafeUrl, WebhookUrl, check_addresses, literal_address, parse_webhook_url
from invoicing.webhooks import RESPONSE_PREFIX_BYTES

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
USER_AGENT = "invoice-service-webhooks/1"


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of `host` (an IP literal is its own)."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise UnsafeUrl(f"the host {host} does not resolve: {error.strerror}") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


async def checked_url(url: str, settings: Settings, resolver: Resolver = resolve) -> tuple[WebhookUrl, IPAddress]:
    """The URL parsed and the address to connect to; UnsafeUrl when the URL or any address is refused."""
    parsed = parse_webhook_url(url, allow_http=settings.webhooks_allow_http)
    addresses = await resolver(parsed.host, parsed.port)
    allowed = check_addresses(parsed.host, addresses, allow_private=settings.webhooks_allow_private_addresses)
    return parsed, allowed[0]


@dataclass(frozen=True)
class AttemptResult:
    status: int | None  # None: no answer (refused URL, connection failed, timeout)
    response: str  # at most RESPONSE_PREFIX_BYTES of the answer's body
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def pinned_request_url(parsed: WebhookUrl, address: IPAddress) -> str:
    netloc = f"[{address}]" if address.version == 6 else str(address)
    return f"{parsed.scheme}://{netloc}:{parsed.port}{parsed.target}"


def host_header(parsed: WebhookUrl) -> str:
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    default = 443 if parsed.scheme == "https" else 80
    return host if parsed.port == default else f"{host}:{parsed.port}"


class WebhookSender:
    """One httpx client per worker: no redirects, no environment proxies, short timeouts."""

    def __init__(self, settings: Settings, resolver: Resolver = resolve) -> None:
        self.settings = settings
        self.resolver = resolver
        timeout = settings.webhooks_timeout_seconds
        self.client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=settings.webhooks_concurrency, max_keepalive_connections=0),
        )

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        timeout = self.settings.webhooks_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                parsed, address = await checked_url(url, self.settings, self.resolver)
                return await self._send(parsed, address, headers, body)
        except UnsafeUrl as refused:
            return AttemptResult(None, "", f"refused: {refused}")
        except (TimeoutError, httpx.TimeoutException):
            return AttemptResult(None, "", f"no answer within {timeout:g} s")
        except httpx.HTTPError as error:
            return AttemptResult(None, "", f"connection failed: {type(error).__name__}")

    async def _send(
        self, parsed: WebhookUrl, address: IPAddress, headers: dict[str, str], body: bytes
    ) -> AttemptResult:
        extensions = {} if literal_address(parsed.host) is not None else {"sni_hostname": parsed.host}
        request_headers = {**headers, "host": host_header(parsed), "user-agent": USER_AGENT}
        request = self.client.build_request(
            "POST", pinned_request_url(parsed, address), content=body, headers=request_headers, extensions=extensions
        )
        response = await self.client.send(request, stream=True)
        try:
            prefix = b""
            async for chunk in response.aiter_raw():
                prefix += chunk
                if len(prefix) >= RESPONSE_PREFIX_BYTES:
                    break
        finally:
            await response.aclose()
        return AttemptResult(response.status_code, prefix[:RESPONSE_PREFIX_BYTES].decode(errors="replace"))

    async def close(self) -> None:
        await self.client.aclose()
