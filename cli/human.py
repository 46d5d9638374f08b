"""`invoice-service jobs|invoices|credit-notes ...`: the API for a human at a terminal.

Every command talks to the running API as a client of it (its ID and secret from flags or from
INVOICE_CLIENT_ID / INVOICE_CLIENT_SECRET), so it can do exactly what the client may, nothing more.
"""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from cli.api_client import DEFAULT_API_URL, ApiFailed, Credentials, InvoiceApi

jobs = typer.Typer(help="Invoice jobs: create, watch, list.", no_args_is_help=True)
invoices = typer.Typer(help="Issued invoices: list, get (with the PDF).", no_args_is_help=True)
credit_notes = typer.Typer(help="Credit notes: create.", no_args_is_help=True)

console = Console()
errors = Console(stderr=True)

ApiUrl = Annotated[str, typer.Option("--api-url", envvar="INVOICE_API_URL", help="Base URL of the API.")]
ClientId = Annotated[str, typer.Option("--client-id", envvar="INVOICE_CLIENT_ID", help="The API client's ID.")]
ClientSecret = Annotated[
    str, typer.Option("--client-secret", envvar="INVOICE_CLIENT_SECRET", help="Its secret.", show_default=False)
]
TenantOption = Annotated[
    str | None, typer.Option("--tenant", envvar="INVOICE_TENANT", help="[default: the client's tenant]")
]
Limit = Annotated[int, typer.Option(min=1, max=200, help="Most items to show.")]
PollSeconds = Annotated[float, typer.Option("--poll-seconds", min=0.1, help="How often to read the job.")]


@contextmanager
def connected(api_url: str, client_id: str, client_secret: str, tenant: str | None) -> Iterator[InvoiceApi]:
    """The API as this client; an error answer ends the command with the API's message and exit code 1."""
    try:
        api = InvoiceApi(Credentials(api_url, client_id, client_secret, tenant))
    except ApiFailed as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    try:
        yield api
    except ApiFailed as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    finally:
        api.close()


def print_json(value: Any) -> None:
    console.print_json(json.dumps(value))


# --- jobs ------------------------------------------------------------------------------------------


@jobs.command("create")
def create_job(
    client_id: ClientId,
    client_secret: ClientSecret,
    orders: Annotated[
        str | None, typer.Option("--orders", help="Comma-separated order IDs (a MANUAL job); none: AUTOMATIC.")
    ] = None,
    site: Annotated[
        str | None, typer.Option("--site", help="An AUTOMATIC job of this site's orders only (its siteCode).")
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Then follow the job until it is done.")] = False,
    poll_seconds: PollSeconds = 1.0,
    tenant: TenantOption = None,
    api_url: ApiUrl = DEFAULT_API_URL,
) -> None:
    """Ask for the invoices of some orders (or, without --orders, of every order that is due)."""
    order_ids = [order_id.strip() for order_id in (orders or "").split(",") if order_id.strip()]
    body: dict[str, Any] = {"jobType": "MANUAL", "orderIds": order_ids} if order_ids else {"jobType": "AUTOMATIC"}
    if site is not None:
        body["siteCode"] = site  # the API refuses it for a MANUAL job, with a 400 this prints
    with connected(api_url, client_id, client_secret, tenant) as api:
        job_id = api.request("POST", "/jobs/invoices", json=body)["jobId"]
        console.print(job_id)
        if watch:
            follow(api, job_id, poll_seconds)


@jobs.command("watch")
def watch_job(
    job_id: Annotated[str, typer.Argument(metavar="JOB")],
    client_id: ClientId,
    client_secret: ClientSecret,
    poll_seconds: PollSeconds = 1.0,
    tenant: TenantOption = None,
    api_url: ApiUrl = DEFAULT_API_URL,
) -> None:
    """Follow a job: a live bar of finished orders (failed ones counted apart) with an ETA."""
    with connected(api_url, client_id, client_secret, tenant) as api:
        follow(api, job_id, poll_seconds)


def follow(api: InvoiceApi, job_id: str, poll_seconds: float) -> None:
    """Poll the job until DONE, then list its failed orders; exit code 1 when any failed."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"job {job_id[:12]}", total=None, failed=0)
        while True:
            job = api.request("GET", f"/jobs/invoices/{job_id}")
            statuses = [order["orderStatus"] for order in job["orders"]]
            finished = sum(status != "PENDING" for status in statuses)
            progress.update(
                task,
                total=job.get("totalOrders") or len(statuses) or None,
                completed=finished,
                failed=statuses.count("FAILURE"),
            )
            if job["jobStatus"] == "DONE":
                break
            time.sleep(poll_seconds)
    failed = [order for order in job["orders"] if order["orderStatus"] == "FAILURE"]
    succeeded = [order for order in job["orders"] if order["orderStatus"] == "SUCCESS"]
    console.print(f"done: {len(succeeded)} invoiced, {len(failed)} failed")
    for order in succeeded:
        console.print(f"  {order['orderId']}: {order.get('invoiceNumber')}")
    for order in failed:
        console.print(f"  [red]{order['orderId']}: {order.get('message')}[/red]")
    if failed:
        raise typer.Exit(1)


@jobs.command("list")
def list_jobs(
    client_id: ClientId,
    client_secret: ClientSecret,
    status: Annotated[str | None, typer.Option(help="DONE or IN_PROGRESS")] = None,
    job_type: Annotated[str | None, typer.Option("--type", help="MANUAL or AUTOMATIC")] = None,
    limit: Limit = 20,
    tenant: TenantOption = None,
    api_url: ApiUrl = DEFAULT_API_URL,
) -> None:
    """The newest jobs, with their orders counted by status."""
    params = {"limit": limit, **({"status": status} if status else {}), **({"jobType": job_type} if job_type else {})}
    with connected(api_url, client_id, client_secret, tenant) as api:
        page = api.request("GET", "/jobs/invoices", params=params)
    table = Table("job", "created", "type", "status", "succeeded", "failed", "pending")
    for job in page["items"]:
        counts = job["orderCounts"]
        table.add_row(
            job["jobId"], job["createdAt"], job["jobType"], job["jobStatus"],
            str(counts.get("SUCCESS", 0)), str(counts.get("FAILURE", 0)), str(counts.get("PENDING", 0)),
        )  # fmt: skip
    console.print(table)


# --- invoices and credit notes -----------------------------------------------------------------------


@invoices.command("list")
def list_invoices(
    client_id: ClientId,
    client_secret: ClientSecret,
    order: Annotated[str | None, typer.Option("--order", help="Only the invoice of this order.")] = None,
    job: Annotated[str | None, typer.Option("--job", help="Only invoices made by this job.")] = None,
    site: Annotated[str | None, typer.Option("--site", help="Only the documents of this site's orders.")] = None,
    credit_notes_only: Annotated[bool, typer.Option("--credit-notes", help="List credit notes instead.")] = False,
    limit: Limit = 20,
    tenant: TenantOption = None,
    api_url: ApiUrl = DEFAULT_API_URL,
) -> None:
    """The newest invoices (or credit notes)."""
    params: dict[str, Any] = {"limit": limit, "type": "credit-note" if credit_notes_only else "invoice"}
    params.update({name: value for name, value in (("orderId", order), ("jobId", job), ("siteCode", site)) if value})
    with connected(api_url, client_id, client_secret, tenant) as api:
        page = api.request("GET", "/invoices", params=params)
    table = Table("number", "issued", "order", "gross", "credited", "email")
    for item in page["items"]:
        credited = (item.get("credited") or {}).get("gross", "")
        table.add_row(
            item["number"], item["issuedAt"], item["orderId"], f"{item['totals']['gross']} {item['currency']}",
            credited, item.get("emailStatus", ""),
        )  # fmt: skip
    console.print(table)


@invoices.command("get")
def get_invoice(
    number: Annotated[str, typer.Argument(metavar="NUMBER")],
    client_id: ClientId,
    client_secret: ClientSecret,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Save the invoice PDF to this file.")] = None,
    tenant: TenantOption = None,
    api_url: ApiUrl = DEFAULT_API_URL,
) -> None:
    """One invoice as JSON (lines, credit notes, amounts credited); --pdf FILE saves its PDF."""
    with connected(api_url, client_id, client_secret, tenant) as api:
        invoice = api.request("GET", f"/invoices/{number}")
        if pdf is not None:
            pdf.write_bytes(api.download(invoice["links"]["pdf"]))
    print_json(invoice)
    if pdf is not None:
        errors.print(f"saved {pdf}")


def parse_line(value: str) -> dict[str, Any]:
    entry_id, _, quantity = value.rpartition(":")
    if not entry_id or not quantity.isdigit() or int(quantity) < 1:
        raise typer.BadParameter(f"{value!r}: give ENTRY:QUANTITY, say 1:2 (entry 1, two pieces)")
    return {"entryId": entry_id, "quantity": int(quantity)}


@credit_notes.command("create")
def create_credit_note(
    invoice: Annotated[str, typer.Argument(metavar="INVOICE", help="The number of the invoice to credit.")],
    client_id: ClientId,
    client_secret: ClientSecret,
    reason: Annotated[str, typer.Option(help="Why (kept with the credit note).")],
    lines: Annotated[
        list[str] | None, typer.Option("--line", help="ENTRY:QUANTITY to credit; repeat; none: the whole invoice.")
    ] = None,
    shipping: Annotated[bool, typer.Option("--shipping", help="Credit the shipping too.")] = False,
    tenant: TenantOption = None,
    api_url: ApiUrl = DEFAULT_API_URL,
) -> None:
    """Credit an invoice, whole or some of its lines (and/or its shipping). Prints the accepted request;
    `GET /invoice/{tenant}/credit-notes/{creditNoteId}` shows the credit note once the worker made it."""
    body: dict[str, Any] = {"reason": reason}
    if lines or shipping:
        body["lines"] = [parse_line(line) for line in lines or ()]
        body["shipping"] = shipping
    else:  # all that is left of the invoice, its shipping included
        body["wholeInvoice"] = True
    with connected(api_url, client_id, client_secret, tenant) as api:
        print_json(api.request("POST", f"/invoices/{invoice}/credit-notes", json=body))
