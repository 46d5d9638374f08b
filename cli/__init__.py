"""The `invoice-service` command: run the API, run the stream worker, feed orders in."""

import asyncio

import typer

from cli.clients import clients
from cli.human import credit_notes, invoices, jobs
from cli.orders import orders
from infra.deployment import Process, UnsafeDeployment, check_deployment
from infra.kafka import ensure_topics
from infra.logs import configure_logging
from infra.settings import Settings, get_settings
from infra.tracing import configure_tracing

app = typer.Typer(help="Invoice service: REST API and Kafka stream worker.", no_args_is_help=True)


def refuse_unsafe(settings: Settings, process: Process) -> None:
    """Stop with the list of problems (infra/deployment.py) before anything starts."""
    try:
        check_deployment(settings, process)
    except UnsafeDeployment as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


@app.command()
def api(
    host: str = typer.Option(None, help="Bind address [default: INVOICE_API_HOST or 127.0.0.1]"),
    port: int = typer.Option(None, help="Port [default: INVOICE_API_PORT or 8000]"),
) -> None:
    """Run the REST API (uvicorn)."""
    import uvicorn

    from bootstrap.api import build_api

    settings = get_settings()
    refuse_unsafe(settings, "api")
    configure_logging(settings.log_level, settings.log_json)
    configure_tracing(settings, "invoice-api")
    uvicorn.run(
        build_api(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_config=None,  # keep our logging configuration
        proxy_headers=False,
    )


@app.command()
def worker() -> None:
    """Run the stream worker (Faust agents: orders, plan, invoice, project, emails) until Ctrl-C."""
    from faust import Worker

    from bootstrap.worker import build_worker
    from schemas.topics import TOPICS
    from streams.app import topic_name

    settings = get_settings()
    refuse_unsafe(settings, "worker")
    configure_logging(settings.log_level, settings.log_json)
    settings.worker_data_dir.mkdir(parents=True, exist_ok=True)
    configure_tracing(settings, "invoice-worker")
    if settings.worker_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host)
    topics = [topic_name(settings, spec) for spec in TOPICS]
    asyncio.run(ensure_topics(settings, topics))
    # Faust would replace the handlers with its own format: the worker logs like the API, INVOICE_LOG_JSON
    # included. Without Faust's logging setup its terminal spinner stays on: off, so that "Ready" is logged.
    worker = Worker(build_worker(settings).app, loglevel=settings.log_level.lower(), override_logging=False)
    worker.spinner = None
    worker.execute_from_commandline()


app.add_typer(orders, name="orders")
app.add_typer(clients, name="clients")
app.add_typer(jobs, name="jobs")
app.add_typer(invoices, name="invoices")
app.add_typer(credit_notes, name="credit-notes")
