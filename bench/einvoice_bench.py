"""What the e-invoice work adds to rendering: the CII XML, and the PDF/A-3b post-processing that embeds it.

    .venv/bin/python -m bench.einvoice_bench              # 10 and 200 lines, medians and ratios
    .venv/bin/python -m bench.einvoice_bench --rounds 50

For a 10-line and a 200-line invoice (bench/render_bench.py's sample invoice, logo included), in one
process and taking turns so that the load of the machine hits both alike: render only, and render +
business terms + CII XML + facturx_pdf. Each is run once before timing. The issue's bar: the second at
most 1.30 times the first.
"""

import argparse
import gc
import statistics
import time
from collections.abc import Callable

from bench.render_bench import sample_invoice
from invoicing.document import InvoiceDocument
from invoicing.einvoice import EInvoiceFormat, EInvoiceSettings, einvoice_xml
from streams.rendering.pdf import render_facturx_pdf, render_invoice_pdf, warm_up

BAR = 1.30
SETTINGS = EInvoiceSettings()


def render_only(document: InvoiceDocument) -> None:
    render_invoice_pdf(document)


def render_and_einvoice(document: InvoiceDocument) -> None:
    render_facturx_pdf(document)  # what the render pool runs for every issued invoice


def xml_only(document: InvoiceDocument) -> None:
    einvoice_xml(document, SETTINGS, EInvoiceFormat.FACTURX)


def measure(rounds: int) -> dict[tuple[int, str, str], list[float]]:
    runs: dict[str, Callable[[InvoiceDocument], None]] = {
        "render": render_only,
        "render + e-invoice": render_and_einvoice,
        "XML alone": xml_only,
    }
    documents = {lines: sample_invoice(lines) for lines in (10, 200)}
    times: dict[tuple[int, str, str], list[float]] = {
        (lines, label, clock): [] for lines in documents for label in runs for clock in ("wall", "cpu")
    }
    for document in documents.values():
        for run in runs.values():
            run(document)  # fonts, caches, imports, the ICC profile
    gc.collect()
    for _ in range(rounds):
        for lines, document in documents.items():
            for label, run in runs.items():
                start_wall, start_cpu = time.perf_counter(), time.process_time()
                run(document)
                times[(lines, label, "wall")].append(time.perf_counter() - start_wall)
                times[(lines, label, "cpu")].append(time.process_time() - start_cpu)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40)
    arguments = parser.parse_args()
    warm_up()
    times = measure(arguments.rounds)
    print(f"median per invoice over {arguments.rounds} rounds, ms (wall / CPU)")
    ratios = []
    for lines in (10, 200):

        def median(label: str, clock: str, lines: int = lines) -> float:
            return statistics.median(times[(lines, label, clock)]) * 1000

        ratio = median("render + e-invoice", "wall") / median("render", "wall")
        cpu_ratio = median("render + e-invoice", "cpu") / median("render", "cpu")
        ratios.append(ratio)
        print(
            f"{lines:>4} lines: render {median('render', 'wall'):5.1f} / {median('render', 'cpu'):5.1f}"
            f" | render + XML + PDF/A-3b {median('render + e-invoice', 'wall'):5.1f}"
            f" / {median('render + e-invoice', 'cpu'):5.1f}"
            f" | XML alone {median('XML alone', 'wall'):4.1f}"
            f" | ratio {ratio:.2f} / {cpu_ratio:.2f} (bar {BAR:.2f})"
        )
    print("within the bar" if max(ratios) <= BAR else "OVER THE BAR")


if __name__ == "__main__":
    main()
