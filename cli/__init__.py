"""The `invoice-service` command: run the API, run the stream worker, feed orders in."""

import asyncio

import typer

from cli.clients import clients
from cli.orders import orders
from infra.kafka import ensure_topics
from infra.logs import configure_logging
from infra.settings import get_settings

app = typer.Typer(help="Invoice service: REST API and Kafka stream worker.", no_args_is_help=True)


@app.command()
def api(
    host: str = typer.Option(None, help="Bind address [default: INVOICE_API_HOST or 127.0.0.1]"),
    port: int = typer.Option(None, help="Port [default: INVOICE_API_PORT or 8000]"),
) -> None:
    """Run the REST API (uvicorn)."""
    import uvicorn

    from service.app import create_app

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_config=None,  # keep our logging configuration
        proxy_headers=False,
    )


@app.command()
def worker() -> None:
    """Run the stream worker (Faust agents: orders, plan, invoice, project, emails) until Ctrl-C."""
    from faust import Worker

    import streams.agents  # noqa: F401  (registers the agents with the app)
    from streams.app import app as faust_app

    settings = get_settings()
    settings.worker_data_dir.mkdir(parents=True, exist_ok=True)
    topics = [
        settings.topic(name)
        for name in (
            settings.topic_order_events,
            settings.topic_job_requests,
            settings.topic_order_requests,
            settings.topic_order_results,
            settings.topic_dead_letters,
            settings.topic_invoice_emails,
            settings.topic_credit_note_requests,
            settings.topic_refunds,
        )
    ]
    asyncio.run(
        ensure_topics(
            settings.kafka_bootstrap_servers, topics, settings.topic_partitions, settings.topic_replication_factor
        )
    )
    Worker(faust_app, loglevel=settings.log_level.lower()).execute_from_commandline()


app.add_typer(orders, name="orders")
app.add_typer(clients, name="clients")
