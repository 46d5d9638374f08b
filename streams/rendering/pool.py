"""Rendering in a process pool, so the stream worker's event loop never waits on a PDF or its e-invoice XML."""

import asyncio
import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from types import TracebackType

from infra.metrics import RENDER_BUSY_PROCESSES, RENDER_QUEUE_DEPTH
from invoicing.document import InvoiceDocument
from streams.rendering.pdf import check_einvoice, render_facturx_pdf, warm_up

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def start_render_process(worker_pid: int) -> None:
    """A render process ends with its worker. A worker that stops shuts its pool down; one that is killed
    (SIGKILL, the OOM killer) cannot, and its render processes would live on, idle, holding memory. So on
    Linux each asks the kernel for SIGTERM when its parent dies (prctl PR_SET_PDEATHSIG), and leaves at
    once if the worker died before it asked. The pool starts its processes from the worker's main thread,
    whose end is the worker's."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != worker_pid:
            os._exit(0)
    warm_up()


class RenderPool:
    def __init__(self, processes: int) -> None:
        # spawn, not fork: the parent is an asyncio program with open Kafka and MongoDB sockets.
        self._executor = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=start_render_process,
            initargs=(os.getpid(),),
        )
        self._processes = processes
        self._in_flight = 0

    async def render(self, document: InvoiceDocument) -> bytes:
        """The issued PDF: Factur-X, PDF/A-3b (raises EInvoiceRefused)."""
        self._count_in_flight(+1)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, render_facturx_pdf, document)
        finally:
            self._count_in_flight(-1)

    def _count_in_flight(self, change: int) -> None:
        """The pool starts a PDF as soon as a process is free, so of the PDFs in flight up to one per
        process are being rendered and the rest wait in the queue."""
        self._in_flight += change
        RENDER_BUSY_PROCESSES.set(min(self._in_flight, self._processes))
        RENDER_QUEUE_DEPTH.set(max(0, self._in_flight - self._processes))

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
