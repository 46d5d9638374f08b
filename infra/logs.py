"""Logging for both processes: standard logging, rendered by structlog as key=value or JSON lines.

Context reaches every line two ways: `extra={...}` of a logging call, and `log_context(...)`, which binds
fields (tenant, job, order) for everything logged while one record is handled, including the lines of
libraries and of the failure policy that know nothing of orders.
"""

import logging
import re
import sys
from contextlib import AbstractContextManager
from typing import Any

import structlog

# A download link's signature lets anyone holding it fetch that invoice until it expires: access logs (and
# trace spans, infra/tracing.py) keep the path but not the signature, ours or S3's (X-Amz-Signature=).
SIGNATURE = re.compile(r"(signature=)[^&\s\"]+", re.IGNORECASE)


def redact_signatures(text: str) -> str:
    return SIGNATURE.sub(r"\1[redacted]", text)


class RedactSignatures(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_signatures(a) if isinstance(a, str) else a for a in record.args)
        return True


def log_context(**fields: Any) -> AbstractContextManager[Any]:
    """Adds `fields` to every line logged inside the `with` block (in this task), then removes them."""
    return structlog.contextvars.bound_contextvars(**fields)


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(default=str) if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactSignatures())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=renderer,
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.ExtraAdder(),  # the fields of extra={...}
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
