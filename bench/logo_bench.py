"""What a large logo costs: rendering with a 4000 x 4000 logo stored as it was sent (before uploads were
downscaled) beside the same logo stored downscaled, and the upload check itself.

    .venv/bin/python -m bench.logo_bench               # 20 invoices per way
    .venv/bin/python -m bench.logo_bench --renders 50

Each way renders bench/render_bench.py's 10-line invoice as the service issues it (Factur-X PDF/A-3b) in
a fresh render process of its own (spawned, like the worker's pool), so caches and peak memory are its
own: the first invoice (the logo decoded, then cached for the process) and the median of the rest.
"As sent, old renderer" embeds every pixel, as rendering did before; "as sent, this renderer" is what a
logo stored before the change costs now (downscaled by the render process, once); "downscaled on
upload" is what an uploaded logo costs now. The upload check runs in this process, in a thread beside
an event loop whose longest stall it reports, as the API runs it.
"""

import argparse
import asyncio
import dataclasses
import io
import multiprocessing
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bench.render_bench import sample_invoice
from invoicing.logo import check_logo

SIDE = 4000


@dataclass(frozen=True)
class Rendered:
    first_ms: float
    median_ms: float
    pdf_bytes: int
    peak_rss_mb: float
    rss_before_mb: float


def large_logo(side: int = SIDE) -> bytes:
    """A logo-like PNG of side x side pixels: blue ellipses on transparency, ~0.1 MB as a file."""
    image = Image.new("RGBA", (side, side), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    for offset in range(0, side, 40):
        draw.ellipse((offset, offset, offset + side // 4, offset + side // 8), fill=(20, 80, 160, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def render_way(logo: bytes, renders: int, old_renderer: bool) -> Rendered:
    """In a render process of its own: the first invoice with `logo`, then the median of the others."""
    from streams.rendering import images
    from streams.rendering.pdf import render_facturx_pdf, warm_up

    if old_renderer:  # every logo read as it is stored, as before logos were downscaled
        setattr(images, "fits_stored_size", lambda size: True)  # noqa: B010
    warm_up()
    document = sample_invoice(10)
    document = dataclasses.replace(document, seller=dataclasses.replace(document.seller, logo=logo))
    rss_before = _peak_rss_mb()
    times: list[float] = []
    pdf = b""
    for _ in range(renders + 1):
        start = time.perf_counter()
        pdf = render_facturx_pdf(document)
        times.append((time.perf_counter() - start) * 1000)
    return Rendered(times[0], statistics.median(times[1:]), len(pdf), _peak_rss_mb(), rss_before)


def in_own_process(logo: bytes, renders: int, old_renderer: bool) -> Rendered:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(render_way, logo, renders, old_renderer).result()


async def longest_stall_ms(work: "asyncio.Future[object]") -> float:
    """The longest an event loop waited past a 5 ms sleep while `work` ran."""
    stalls: list[float] = []
    while not work.done():
        start = time.perf_counter()
        await asyncio.sleep(0.005)
        stalls.append((time.perf_counter() - start - 0.005) * 1000)
    await work
    return max(stalls, default=0.0)


async def upload_check(logo: bytes, runs: int) -> tuple[float, float]:
    """The check's median time, and the longest event-loop stall while it ran in a thread."""
    times, stalls = [], []
    for _ in range(runs):
        start = time.perf_counter()
        stalls.append(await longest_stall_ms(asyncio.ensure_future(asyncio.to_thread(check_logo, logo))))
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(stalls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--renders", type=int, default=20, help="invoices per way after the first")
    args = parser.parse_args()

    sent = large_logo()
    stored = check_logo(sent)
    print(f"logo as sent: {SIDE} x {SIDE} px PNG, {len(sent)} bytes; ", end="")
    print(f"stored downscaled: {stored.width} x {stored.height} px, {len(stored.content)} bytes")

    ways = {
        "as sent, old renderer": in_own_process(sent, args.renders, old_renderer=True),
        "as sent, this renderer": in_own_process(sent, args.renders, old_renderer=False),
        "downscaled on upload": in_own_process(stored.content, args.renders, old_renderer=False),
    }
    print(f"\n10-line Factur-X invoice, one render process per way, median of {args.renders} after the first:")
    print(f"  {'':24} {'first':>9} {'per invoice':>12} {'PDF':>11} {'peak RSS':>10}")
    for label, way in ways.items():
        print(
            f"  {label:24} {way.first_ms:6.0f} ms {way.median_ms:9.1f} ms {way.pdf_bytes / 1000:8.0f} kB "
            f"{way.peak_rss_mb:6.0f} MB"
        )
    old, new = ways["as sent, old renderer"], ways["downscaled on upload"]
    print(
        f"  ratio old / downscaled   {old.first_ms / new.first_ms:6.1f} x  {old.median_ms / new.median_ms:9.1f} x "
        f"{old.pdf_bytes / new.pdf_bytes:8.1f} x  (peak RSS {old.peak_rss_mb - old.rss_before_mb:.0f} vs "
        f"{new.peak_rss_mb - new.rss_before_mb:.0f} MB above the warmed-up process)"
    )

    median_ms, stall_ms = asyncio.run(upload_check(sent, 5))
    print(f"\nupload check of the {SIDE} x {SIDE} logo (decode, downscale, encode): {median_ms:.0f} ms, median of 5")
    print(f"  in a thread, as the API runs it: the event loop's longest stall {stall_ms:.1f} ms")
    start = time.perf_counter()
    check_logo(sent)
    inline_ms = (time.perf_counter() - start) * 1000
    print(f"  on the event loop, as before: the loop stalls for all of it, {inline_ms:.0f} ms")


if __name__ == "__main__":
    main()
