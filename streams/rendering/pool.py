"""Rendering in a process pool, so the stream worker's event loop never waits on a PDF or its e-invoice XML."""

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from types import TracebackType

from invoicing.document import InvoiceDocument
from streams.rendering.pdf import check_einvoice, render_facturx_pdf, warm_up


class RenderPool:
    def __init__(self, processes: int) -> None:
        # spawn, not fork: the parent is an asyncio program with open Kafka and MongoDB sockets.
        self._executor = ProcessPoolExecutor(
            max_workers=processes, mp_context=multiprocessing.get_context("spawn"), initializer=warm_up
        )

    async def render(self, document: InvoiceDocument) -> bytes:
        """The issued PDF: Factur-X, PDF/A-3b (raises EInvoiceRefused)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, render_facturx_pdf, document)

    async def check_einvoice(self, document: InvoiceDocument) -> None:
        """Raises EInvoiceRefused when the document cannot become an e-invoice."""
        await asyncio.get_running_loop().run_in_executor(self._executor, check_einvoice, document)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def __aenter__(self) -> "RenderPool":
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
