"""PUT .../settings/logo through the app, on the in-memory settings store: a decompression bomb is refused
from its header, a large logo is stored downscaled (and renders), and the decoding runs off the event loop.

Whether pixels are decoded is seen at Pillow's ImageFile.load, which every PNG and JPEG decode goes through."""

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw, ImageFile

from invoicing.logo import STORED_LOGO_SIZE
from streams.rendering.pdf import render_invoice_pdf
from tests.api_fakes import FakeApi
from tests.unit.test_rendering import document
from tests.unit.test_rendering_images import bomb_png
from tests.unit.test_rendering_pdf_checks import _image_xobjects

TENANT = "shop"
URL = f"/invoice/{TENANT}/settings/logo"


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    """The app over fakes (tests/api_fakes.py), every call with a token of the tenant."""
    fake = FakeApi.build()
    transport = httpx.ASGITransport(app=fake.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=fake.token()) as client:
        yield client


def watch_decoding(monkeypatch: pytest.MonkeyPatch, seen: Callable[[], None]) -> None:
    """Calls `seen` whenever Pillow decodes an image's pixels, then decodes them."""
    load = ImageFile.ImageFile.load

    def watched(image: ImageFile.ImageFile) -> Any:
        seen()
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", watched)


def drawn(kind: str, size: tuple[int, int], **save: Any) -> bytes:
    """A logo-like picture: a blue badge on white (transparent around it for PNG)."""
    mode, background = ("RGBA", (255, 255, 255, 0)) if kind == "PNG" else ("RGB", (255, 255, 255))
    image = Image.new(mode, size, background)
    ImageDraw.Draw(image).rounded_rectangle((0, 0, size[0] - 1, size[1] - 1), radius=size[1] // 4, fill=(20, 80, 160))
    buffer = io.BytesIO()
    image.save(buffer, format=kind, **save)
    return buffer.getvalue()


@pytest.mark.parametrize("size", [(20000, 20000), (10000, 10000), (4001, 100)])
async def test_a_decompression_bomb_is_refused_from_its_header(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    bomb = bomb_png(*size)
    assert len(bomb) < 100

    def refuse() -> None:
        raise AssertionError("the bomb's pixels were decoded")

    watch_decoding(monkeypatch, refuse)
    response = await api.put(URL, content=bomb, headers={"Content-Type": "image/png"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "400"
    assert response.json()["message"].startswith("The logo ")
    assert "4000 x 4000" in response.json()["message"]
    assert (await api.get(URL)).status_code == 404  # nothing stored


@pytest.mark.parametrize(
    ("kind", "size", "stored"),
    [("PNG", (4000, 1000), (709, 177)), ("JPEG", (3000, 3000), (234, 234)), ("PNG", (1000, 4000), (58, 234))],
)
async def test_a_large_logo_is_stored_downscaled_to_the_logo_box_and_renders(
    api: httpx.AsyncClient, kind: str, size: tuple[int, int], stored: tuple[int, int]
) -> None:
    assert STORED_LOGO_SIZE == (709, 234)  # the 170 x 56 pt logo box at 300 dpi
    put = await api.put(URL, content=drawn(kind, size), headers={"Content-Type": "application/octet-stream"})
    assert put.status_code == 200, put.text
    assert (put.json()["width"], put.json()["height"]) == stored

    got = await api.get(URL)
    assert got.status_code == 200 and got.headers["content-type"] == f"image/{kind.lower()}"
    assert put.json()["size"] == len(got.content)
    with Image.open(io.BytesIO(got.content)) as image:
        assert (image.format, image.size) == (kind, stored)
        centre = image.convert("RGBA").getpixel((stored[0] // 2, stored[1] // 2))
        assert isinstance(centre, tuple)
        assert all(abs(a - b) <= 8 for a, b in zip(centre, (20, 80, 160, 255), strict=True))  # still the badge

    images = _image_xobjects(render_invoice_pdf(document(seller={"logo": got.content})))
    assert [(xobject["/Width"], xobject["/Height"]) for xobject in images] == [stored]


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
async def test_the_stored_logo_keeps_no_metadata(api: httpx.AsyncClient, kind: str) -> None:
    exif = Image.Exif()
    exif[0x010E] = "secret-description"  # ImageDescription
    exif[0x013B] = "secret-artist"  # Artist
    sent = drawn(kind, (120, 40), exif=exif.tobytes()) + b"<script>trailing</script>"
    put = await api.put(URL, content=sent)
    assert put.status_code == 200, put.text
    stored = (await api.get(URL)).content
    assert b"secret" not in stored and b"script" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (120, 40)  # small enough: stored at its size
        assert "exif" not in image.info


async def test_the_logo_is_decoded_off_the_event_loop(api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    on_event_loop: list[bool] = []

    def note_thread() -> None:
        try:
            asyncio.get_running_loop()
            on_event_loop.append(True)
        except RuntimeError:  # no loop runs in this thread
            on_event_loop.append(False)

    watch_decoding(monkeypatch, note_thread)
    put = await api.put(URL, content=drawn("PNG", (2000, 500)))
    assert put.status_code == 200, put.text
    assert on_event_loop and not any(on_event_loop)
