"""A minimal Faust app for the smoke test: an agent that reads ECHO_IN and writes each value,
upper-cased, to ECHO_OUT. The app is the worker's (streams/app.py create_faust_app: its broker, login
and options), under the app id ECHO_APP_ID; `faust -A` needs it as a module attribute."""

import os
from typing import Any

from infra.settings import get_settings
from streams.app import create_faust_app

settings = get_settings().model_copy(update={"worker_app_id": os.environ["ECHO_APP_ID"], "topic_prefix": ""})
settings.worker_data_dir.mkdir(parents=True, exist_ok=True)
app = create_faust_app(settings)
source = app.topic(os.environ["ECHO_IN"], value_type=bytes, value_serializer="raw")
sink = app.topic(os.environ["ECHO_OUT"], value_type=bytes, value_serializer="raw")


@app.agent(source)
async def echo(stream: Any) -> None:
    async for value in stream:
        await sink.send(value=value.upper())
