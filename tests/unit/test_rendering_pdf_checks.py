"""The invoice PDF as a file: its logo, metadata and embedded fonts, that pypdf and pdftoppm open it without
complaint, a quiet borb, and the render pool's processes. (Its content: tests/unit/test_rendering.py.)"""

import io
import logging
import re
import shutil
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from pypdf import PageObject, PdfReader

from streams.rendering.pdf import render_invoice_pdf
from streams.rendering.pool import RenderPool
from tests.support import wait_for
from tests.unit.test_rendering import NAMES, document, entries, invoice, pages_of
from tests.unit.test_rendering_images import JPEG_GREY_3X5, packed, png


def resources(page: PageObject) -> Any:
    return page["/Resources"].get_object()


def _image_xobjects(pdf: bytes) -> list[Any]:
    images = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        xobjects = resources(page).get("/XObject", {})
        images += [xobject.get_object() for xobject in xobjects.values()]
    return [image for image in images if image["/Subtype"] == "/Image"]


@pytest.mark.parametrize("logo", ["png", "jpeg"])
def test_logo_in_the_page_header(logo: str) -> None:
    data = png(4, 2, 6, 8, bytes(range(32))) if logo == "png" else JPEG_GREY_3X5
    pdf = render_invoice_pdf(document(seller={"logo": data}, entries=entries(60)))
    images = _image_xobjects(pdf)
    assert images, "an image XObject in the page resources"
    assert (images[0]["/Width"], images[0]["/Height"]) == ((4, 2) if logo == "png" else (3, 5))
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        contents: Any = page.get_contents()
        assert "/Logo Do" in contents.get_data().decode("latin-1"), "drawn on every page"


def test_a_logo_that_cannot_be_read_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    pdf = render_invoice_pdf(document(seller={"logo": b"GIF89a not supported"}))
    assert not _image_xobjects(pdf)
    assert "INV-000042" in pages_of(pdf)[0]
    assert "logo left out" in caplog.text


def test_metadata_and_language() -> None:
    seller = {"legal_name": "Müller & Söhne (Łódź) GmbH", "language": "de", "locale": "de_DE"}
    reader = PdfReader(io.BytesIO(render_invoice_pdf(document(seller=seller))))
    assert reader.metadata is not None
    assert reader.metadata.title == "Rechnung INV-000042"
    assert reader.metadata.author == "Müller & Söhne (Łódź) GmbH"
    assert reader.metadata.subject == "Rechnung INV-000042, Bestellnummer order-9"
    catalog: Any = reader.trailer["/Root"]
    assert catalog["/Lang"] == "de-DE"


def test_latin_fonts_are_dejavu_subsets_embedded_with_unicode_maps() -> None:
    pdf = render_invoice_pdf(document())
    fonts = resources(PdfReader(io.BytesIO(pdf)).pages[0])["/Font"]
    assert len(fonts) == 2
    for font in fonts.values():
        font = font.get_object()
        assert re.fullmatch(r"/[A-Z]{6}\+DejaVuSans(-Bold)?", font["/BaseFont"]), "a subset's name"
        assert "/ToUnicode" in font
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert len(descriptor["/FontFile2"].get_object().get_data()) < 100_000  # the whole face is 700 KB
    assert len(pdf) < 120_000


@pytest.mark.parametrize("lines", [1, 200])
def test_opens_without_warnings_in_pypdf(lines: int, caplog: pytest.LogCaptureFixture) -> None:
    pdf = render_invoice_pdf(invoice(lines, customer=NAMES))
    with caplog.at_level(logging.DEBUG, logger="pypdf"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reader = PdfReader(io.BytesIO(pdf), strict=True)
        for page in reader.pages:
            page.extract_text()
            for font in resources(page)["/Font"].values():
                font.get_object()["/ToUnicode"].get_object().get_data()
        assert reader.metadata is not None
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []
    assert [str(warning.message) for warning in caught] == []


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (Debian's poppler-utils) is not installed")
def test_opens_without_complaints_in_pdftoppm(tmp_path: Path) -> None:
    doc = document(seller={"logo": png(4, 2, 6, 8, bytes(range(32)))}, customer=NAMES, entries=entries(60))
    (tmp_path / "invoice.pdf").write_bytes(render_invoice_pdf(doc))
    result = subprocess.run(
        ["pdftoppm", "-r", "20", "-png", str(tmp_path / "invoice.pdf"), str(tmp_path / "page")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert len(list(tmp_path.glob("page-*.png"))) == 2


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (Debian's poppler-utils) is not installed")
def test_pdftoppm_draws_a_packed_palette_logo_pixel_for_pixel(tmp_path: Path) -> None:
    # 9 x 5 pixels of 2-bit palette indices, each row through another PNG filter type; the logo box
    # (170 x 56 points) scales it by 56 / 5, so at 72 dpi each logo pixel is an 11.2 pixel square.
    indices = [(x * y + x) % 4 for y in range(5) for x in range(9)]
    palette = bytes(value for index in range(4) for value in (index * 80, 255 - index * 80, 7))
    logo = png(9, 5, 3, 2, packed(indices, 9, 2), palette=palette)
    (tmp_path / "invoice.pdf").write_bytes(render_invoice_pdf(document(seller={"logo": logo})))
    top, left = 842 - 800, 50  # the logo's top left corner, in pixels from the page's top left
    crop = ["-x", str(left), "-y", str(top), "-W", "101", "-H", "56"]
    subprocess.run(["pdftoppm", "-r", "72", *crop, str(tmp_path / "invoice.pdf"), str(tmp_path / "logo")], check=True)
    [ppm] = tmp_path.glob("logo*.ppm")
    header, width = ppm.read_bytes().split(b"\n", 3), 101
    pixels = header[3]
    assert header[0] == b"P6"
    scale = 56 / 5
    for y in range(5):
        for x in range(9):
            offset = (int(y * scale + scale / 2) * width + int(x * scale + scale / 2)) * 3
            assert pixels[offset] // 80 == indices[y * 9 + x], (x, y)


def test_borb_prints_nothing_and_leaves_signal_handlers_alone(capfd: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    doc = invoice(1)
    for _ in range(70):  # borb's licence reminder comes every 64 documents
        render_invoice_pdf(doc)
    assert capfd.readouterr().out == ""
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


async def test_pool_renders_in_another_process() -> None:
    async with RenderPool(processes=1) as pool:
        pdf = await pool.render(invoice(3))
    assert "INV-000042" in pages_of(pdf)[0]


# A worker with a render pool of two, its render processes started; it prints their pids and waits.
WORKER_WITH_A_POOL = """
import asyncio, os, sys
from streams.rendering.pool import RenderPool

async def main():
    pool = RenderPool(processes=2)
    pids = {await asyncio.get_running_loop().run_in_executor(pool._executor, os.getpid) for _ in range(8)}
    print(" ".join(map(str, sorted(pids))), flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
async def test_render_processes_end_with_a_worker_that_is_killed() -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER_WITH_A_POOL], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2]
    )
    assert worker.stdout is not None
    render_pids = [int(pid) for pid in worker.stdout.readline().split()]
    assert render_pids and worker.pid not in render_pids
    worker.kill()  # SIGKILL: the pool is never shut down
    worker.wait()

    async def all_gone() -> bool:
        return not any(alive(pid) for pid in render_pids)

    await wait_for(all_gone, timeout=10, what="the killed worker's render processes to end")


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its new parent to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
