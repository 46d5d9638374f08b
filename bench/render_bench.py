"""Invoice PDF rendering speed: the project's renderer beside borb's own invoice template and reportlab.

    .venv/bin/python -m bench.render_bench                 # timings and ratios
    .venv/bin/python -m bench.render_bench --profile       # and where the project renderer's time goes
    .venv/bin/python -m bench.render_bench --samples docs/samples   # sample invoices as PDF and PNG
    .venv/bin/python -m bench.render_bench --fonts         # the font fallback chain beside DejaVu Sans alone

All three render the same 10-line invoice (seller, buyer, addresses, ten lines, totals, logo) in this
one process, one after the other; each is run once before timing (fonts, caches, imports) and the
median of the timed runs is reported. borb's A4PortraitInvoice shows less than the project's invoice
(no SKU, discount, tax rate per line or per-rate tax rows, no "Page x of y") and writes with the
built-in Helvetica, which has nothing beyond Latin-1 ("Łódź" goes in as "?ód?"), where the others
embed DejaVu Sans. reportlab (a benchmark-only dependency: the `bench` extra) builds its invoice with
platypus: tables with the header row repeated, paragraphs that wrap.
"""

import argparse
import cProfile
import gc
import io
import json
import pstats
import shutil
import statistics
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from bench.render_alternatives import render_with_borb_template, render_with_reportlab
from invoicing.document import DEFAULT_SELLER, BankDetails, InvoiceDocument, SellerDetails, build_invoice_document
from invoicing.language import available_languages
from invoicing.recalculation import recalculate
from schemas.orders import parse_order_event
from streams.rendering.content import invoice_content
from streams.rendering.fonts import font_for
from streams.rendering.images import logo_image
from streams.rendering.layout import lay_out
from streams.rendering.pdf import render_invoice_pdf, warm_up
from streams.rendering.text import Fonts
from streams.rendering.writer import write_pdf

PRODUCTS = [
    ("Espresso cup, stoneware, 90 ml", "CUP-90", "12.90", 19),
    ("Coffee beans Huila, whole bean, 1 kg", "BEAN-HUI-1KG", "24.90", 7),
    ("Milk jug, stainless steel, 350 ml", "JUG-350", "18.50", 19),
    ("Descaler for espresso machines", "DESC-500", "9.95", 19),
    ("Coffee beans Sidamo, ground, 250 g", "BEAN-SID-250", "7.40", 7),
    ("Tamper, 58 mm, walnut handle", "TAMP-58", "34.00", 19),
]


def order_event(lines: int, *, customer: dict[str, str], shipping_address: bool, paid: bool) -> bytes:
    """An order event with `lines` entries cycling through PRODUCTS; JSON numbers as the upstream sends."""
    entries = []
    for i in range(lines):
        name, sku, price, rate = PRODUCTS[i % len(PRODUCTS)]
        entry: dict[str, Any] = {
            "id": str(i + 1),
            "product": {"name": name, "sku": sku},
            "amount": 1 + i % 3,
            "unitPrice": float(price),
            "taxRate": rate,
        }
        if i % 4 == 3:
            entry["discount"] = 1.5
        entries.append(entry)
    billing = {"street": "Hauptstraße", "streetNumber": "5", "zipCode": "80331", "city": "München", "country": "DE"}
    order: dict[str, Any] = {
        "id": "SO-2026-004711",
        "status": "COMPLETED",
        "created": "2026-11-20T10:00:00Z",
        "deliveryDate": "2026-11-22",
        "currency": "EUR",
        "customer": customer,
        "billingAddress": billing,
        "entries": entries,
        "shipping": {"amount": 4.90, "taxRate": 19},
        "payments": [{"method": "paypal" if paid else "invoice", "status": "CAPTURED" if paid else "PENDING"}],
        "subTotalPrice": 0,  # not checked here: the renderer shows the recalculated figures
        "totalPrice": 0,
    }
    if shipping_address:
        order["shippingAddress"] = {
            **billing,
            "contactName": "Zażółć Gęślą",
            "street": "Lagerweg",
            "streetNumber": "7",
            "zipCode": "20095",
            "city": "Hamburg",
        }
    event = {"eventType": "order.created", "tenant": "shop", "occurredAt": "2026-11-20T10:00:00Z", "order": order}
    return json.dumps(event).encode()


def logo_png(width: int = 240, height: int = 80, radius: int = 20) -> bytes:
    """A made-up logo, a rounded badge with a darker band, as an RGBA PNG built without an image library."""

    def inside(x: int, y: int) -> bool:  # the corners outside their quarter circles are transparent
        dx = max(radius - x, 0, x - (width - 1 - radius))
        dy = max(radius - y, 0, y - (height - 1 - radius))
        return dx * dx + dy * dy <= radius * radius

    rows = bytearray()
    for y in range(height):
        rows.append(0)  # PNG filter type None
        colour = (111, 78, 55) if height // 3 < y < 2 * height // 3 else (196, 154, 108)
        for x in range(width):
            rows += bytes((*colour, 255 if inside(x, y) else 0))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b"")
    )


BANK = BankDetails("Kaffeerösterei Ørsted & Müller GmbH", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX", "Commerzbank")


def sample_invoice(
    lines: int,
    *,
    language: str = "en",
    locale: str = "en_GB",
    paid: bool = False,
    logo: bool = True,
    customer: dict[str, str] | None = None,
) -> InvoiceDocument:
    customer = customer or {
        "name": "Erika Mustermann",
        "company": "Müller & Söhne Łódź Sp. z o.o.",
        "vatId": "PL5260250274",
    }
    order = parse_order_event(order_event(lines, customer=customer, shipping_address=lines > 3, paid=paid)).order
    seller = SellerDetails(
        legal_name="Kaffeerösterei Ørsted & Müller GmbH",
        address=DEFAULT_SELLER.address,
        vat_id="DE123456789",
        tax_number="27/123/45678",
        email="rechnung@example.com",
        phone="+49 30 1234567",
        bank=BANK,
        footer="Kaffeerösterei Ørsted & Müller GmbH · Geschäftsführerin: Zofia Łukasiewicz · "
        "Amtsgericht Charlottenburg HRB 123456 B · Musterstraße 1, 10115 Berlin",
        language=language,
        locale=locale,
        logo=logo_png() if logo else None,
    )
    return build_invoice_document(
        order=order,
        tenant="shop",
        totals=recalculate(order),
        invoice_number="INV-2026-000042",
        issued_at=datetime(2026, 11, 25, 9, tzinfo=UTC),
        seller=seller,
    )


@dataclass(frozen=True)
class Timing:
    wall_ms: float  # median elapsed time per invoice
    cpu_ms: float  # median CPU time of this process per invoice: steadier while other work shares the machine

    def __str__(self) -> str:
        return f"{self.wall_ms:8.1f} ms {self.cpu_ms:8.1f} ms"


def timings(renderers: dict[str, Callable[[], object]], repeat: int) -> dict[str, Timing]:
    """Median time per invoice of each renderer. They take turns, run after run, so that load from
    elsewhere on the machine (CI, other benchmarks) falls on all of them alike."""
    for render in renderers.values():
        render()  # once untimed: fonts subset, caches filled, modules imported
    wall: dict[str, list[float]] = {label: [] for label in renderers}
    cpu: dict[str, list[float]] = {label: [] for label in renderers}
    for _ in range(repeat):
        for label, render in renderers.items():
            gc.collect()  # garbage left by the renderer before is collected outside the timing
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            render()
            wall[label].append(time.perf_counter() - start_wall)
            cpu[label].append(time.process_time() - start_cpu)
    return {
        label: Timing(statistics.median(wall[label]) * 1000, statistics.median(cpu[label]) * 1000)
        for label in renderers
    }


def _project_renderer(document: InvoiceDocument) -> Callable[[], bytes]:
    return lambda: render_invoice_pdf(document)


def benchmark(repeat: int) -> None:
    start = time.perf_counter()
    warm_up()
    print(f"process warm-up (borb prepared, fonts subset): {(time.perf_counter() - start) * 1000:.0f} ms")

    ten = sample_invoice(10)
    logo = logo_png()
    content = invoice_content(ten)
    with tempfile.TemporaryDirectory() as folder:
        template_pdf = Path(folder) / "template.pdf"
        measured = timings(
            {
                "project": lambda: render_invoice_pdf(ten),
                "template": lambda: render_with_borb_template(ten, logo, template_pdf),
                "reportlab": lambda: render_with_reportlab(content, logo),
            },
            repeat,
        )
    project, template, reportlab = measured["project"], measured["template"], measured["reportlab"]

    print(f"\n10-line invoice, median of {repeat} runs per invoice:  wall        CPU")
    print(f"  project renderer (borb)             {project}")
    print(f"  borb A4PortraitInvoice              {template}")
    print(f"  reportlab platypus                  {reportlab}")
    print(
        f"  ratio project / borb template       {project.wall_ms / template.wall_ms:8.2f}    "
        f"{project.cpu_ms / template.cpu_ms:8.2f}      (the bar: at most 1.0)"
    )
    print(
        f"  ratio project / reportlab           {project.wall_ms / reportlab.wall_ms:8.2f}    "
        f"{project.cpu_ms / reportlab.cpu_ms:8.2f}"
    )

    print("\nproject renderer by invoice length:")
    documents = {lines: sample_invoice(lines) for lines in (1, 30, 200)}
    big = invoice_content(documents[200])
    by_length = timings(
        {
            **{str(lines): _project_renderer(document) for lines, document in documents.items()},
            "reportlab": lambda: render_with_reportlab(big, logo),
        },
        max(3, repeat // 2),
    )
    for lines, document in documents.items():
        pages = len(PdfReader(io.BytesIO(render_invoice_pdf(document))).pages)
        print(f"  {lines:3d} lines ({pages} pages)                 {by_length[str(lines)]}")
    print(f"  200 lines with reportlab            {by_length['reportlab']}")


def profile(repeat: int) -> None:
    warm_up()
    document = sample_invoice(200)
    render_invoice_pdf(document)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        render_invoice_pdf(document)
    profiler.disable()
    print(f"\nproject renderer, 200-line invoice x {repeat}, cProfile by cumulative time:")
    pstats.Stats(profiler).strip_dirs().sort_stats("cumulative").print_stats(25)


def samples(folder: Path) -> None:
    """Sample invoices as PNG pages (pdftoppm, 60 dpi, a few dozen KB each) for docs/; the PDFs stay out."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise SystemExit("pdftoppm is missing: apt-get install poppler-utils")
    folder.mkdir(parents=True, exist_ok=True)
    invoices = {
        "invoice-en-short": sample_invoice(3, paid=True),
        "invoice-en-long": sample_invoice(60),
        "invoice-de-short": sample_invoice(3, language="de", locale="de_DE"),
        "invoice-de-long": sample_invoice(45, language="de", locale="de_DE"),
        # One short invoice in each other language with a catalog (locales/), numbers in its own locale.
        **{
            f"invoice-{language}-short": sample_invoice(3, language=language, locale=language)
            for language in sorted(available_languages() - {"en", "de"})
        },
    }
    with tempfile.TemporaryDirectory() as scratch:
        for name, document in invoices.items():
            pdf = Path(scratch) / f"{name}.pdf"
            pdf.write_bytes(render_invoice_pdf(document))
            first_page = ["-f", "1", "-l", "1"] if name.endswith("-short") else []
            subprocess.run([pdftoppm, "-r", "60", "-png", *first_page, str(pdf), str(folder / name)], check=True)
    for png in sorted(folder.glob("invoice-*.png")):
        print(f"{png} ({png.stat().st_size} bytes)")


def _render_with_dejavu_alone(document: InvoiceDocument) -> bytes:
    """`render_invoice_pdf` as it was before the fallback chain: DejaVu Sans alone, one font per text run."""
    content = invoice_content(document)
    characters = set().union(*content.strings())
    fonts = Fonts(regular=font_for(False, characters), bold=font_for(True, characters))
    logo = logo_image(document.seller.logo) if document.seller.logo else None
    return write_pdf(lay_out(content, fonts, logo), fonts, logo, content)


def fonts_benchmark(repeat: int) -> None:
    """The 10-line Latin invoice with the font fallback chain (Noto) beside DejaVu Sans alone: time and size
    (the bar: at most 1.10 each), and the cost of a Japanese buyer's name."""
    warm_up()
    latin = sample_invoice(10)
    japanese = sample_invoice(10, customer={"name": "山田太郎", "company": "株式会社ヤマダ", "vatId": "PL5260250274"})
    measured = timings(
        {
            "alone": lambda: _render_with_dejavu_alone(latin),
            "chain": lambda: render_invoice_pdf(latin),
            "japanese": lambda: render_invoice_pdf(japanese),
        },
        repeat,
    )
    alone, chain, cjk = measured["alone"], measured["chain"], measured["japanese"]
    size_alone, size_chain = len(_render_with_dejavu_alone(latin)), len(render_invoice_pdf(latin))
    size_cjk = len(render_invoice_pdf(japanese))
    print(f"10-line Latin invoice, median of {repeat} runs:       wall        CPU      bytes")
    print(f"  DejaVu Sans alone (before)          {alone} {size_alone:10d}")
    print(f"  fallback chain (now)                {chain} {size_chain:10d}")
    print(f"  fallback chain, Japanese buyer      {cjk} {size_cjk:10d}")
    print(
        f"  ratio chain / alone                 {chain.wall_ms / alone.wall_ms:8.2f}    "
        f"{chain.cpu_ms / alone.cpu_ms:8.2f}  {size_chain / size_alone:9.3f}   (the bar: at most 1.10)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per renderer (default 20)")
    parser.add_argument("--profile", action="store_true", help="also profile the project renderer (cProfile)")
    parser.add_argument("--samples", type=Path, help="write sample invoices (PDF, PNG pages) to this folder")
    parser.add_argument("--fonts", action="store_true", help="the font fallback chain beside DejaVu Sans alone")
    args = parser.parse_args()
    if args.fonts:
        fonts_benchmark(args.repeat)
        return
    if args.samples:
        samples(args.samples)
        return
    benchmark(args.repeat)
    if args.profile:
        profile(max(3, args.repeat // 4))


if __name__ == "__main__":
    main()
