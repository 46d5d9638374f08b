"""A minimal Faust app for the smoke test: an agent that reads ECHO_IN and writes each value,
upper-cased, to ECHO_OUT."""

import os
from typing import Any

import faust

data_dir = os.path.join(os.environ["INVOICE_WORKER_DATA_DIR"], "echo")
os.makedirs(data_dir, exist_ok=True)

app = faust.App(
    os.environ["ECHO_APP_ID"],
    broker=f"kafka://{os.environ['INVOICE_KAFKA_BOOTSTRAP_SERVERS']}",
    datadir=data_dir,
    web_enabled=False,
    broker_session_timeout=10.0,
)
source = app.topic(os.environ["ECHO_IN"], value_type=bytes, value_serializer="raw")
sink = app.topic(os.environ["ECHO_OUT"], value_type=bytes, value_serializer="raw")


@app.agent(source)
async def echo(stream: Any) -> None:
    async for value in stream:
        await sink.send(value=value.upper())
