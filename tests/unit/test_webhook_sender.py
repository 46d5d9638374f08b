"""The webhook sender (infra/webhook_http.py) against a server on 127.0.0.1: it connects to the address it
checked (the name only in Host), follows no redirect, keeps 1 KiB of the answer, gives up at its deadline,
and refuses at delivery a host that now resolves to a private address."""

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from infra.settings import Settings
from infra.webhook_http import WebhookSender
from invoicing.webhook_urls import IPAddress

LOOPBACK = [ipaddress.ip_address("127.0.0.1")]


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, list[web.Request]]]:
    seen: list[web.Request] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        name = request.match_info["name"]
        if name == "redirect":
            raise web.HTTPFound("http://127.0.0.1:1/elsewhere")
        if name == "big":
            return web.Response(text="x" * 100_000)
        if name == "slow":
            await asyncio.sleep(2)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{name}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield site._server.sockets[0].getsockname()[1], seen  # type: ignore[union-attr]
    await runner.cleanup()


def sender(resolved: list[IPAddress], **settings: object) -> WebhookSender:
    async def resolve(host: str, port: int) -> list[IPAddress]:
        return resolved

    config = {"webhooks_allow_http": True, "webhooks_allow_private_addresses": True, "webhooks_timeout_seconds": 1}
    return WebhookSender(Settings.model_validate(config | settings), resolve)


async def test_it_connects_to_the_checked_address_with_the_name_as_host(
    server: tuple[int, list[web.Request]],
) -> None:
    port, seen = server
    result = await sender(LOOPBACK).post(f"http://hook.example:{port}/ok?x=1", {"webhook-id": "msg_1"}, b"{}")
    assert (result.ok, result.status) == (True, 204)
    [request] = seen
    assert request.headers["Host"] == f"hook.example:{port}" and request.path_qs == "/ok?x=1"
    assert request.headers["webhook-id"] == "msg_1"


async def test_no_redirect_is_followed_and_only_a_prefix_kept(server: tuple[int, list[web.Request]]) -> None:
    port, seen = server
    redirected = await sender(LOOPBACK).post(f"http://hook.example:{port}/redirect", {}, b"{}")
    assert (redirected.ok, redirected.status, len(seen)) == (False, 302, 1)
    big = await sender(LOOPBACK).post(f"http://hook.example:{port}/big", {}, b"{}")
    assert big.ok and len(big.response) == 1024


async def test_a_slow_endpoint_is_given_up_at_the_deadline(server: tuple[int, list[web.Request]]) -> None:
    port, _ = server
    started = asyncio.get_running_loop().time()
    result = await sender(LOOPBACK).post(f"http://hook.example:{port}/slow", {}, b"{}")
    assert (result.ok, result.status, result.error) == (False, None, "no answer within 1 s")
    assert asyncio.get_running_loop().time() - started < 2


async def test_a_host_that_now_resolves_to_a_private_address_is_refused_at_delivery() -> None:
    strict = sender([ipaddress.ip_address("10.0.0.1")], webhooks_allow_private_addresses=False)
    result = await strict.post("http://hook.example/hook", {}, b"{}")
    assert (
        result.status is None
        and result.error == "refused: the host hook.example resolves to 10.0.0.1, which is private"
    )
    https_only = sender(LOOPBACK, webhooks_allow_http=False)
    assert (await https_only.post("http://hook.example/hook", {}, b"{}")).error == (
        "refused: the URL must be https (plain http is not allowed)"
    )
