"""The stand-ins tests/unit/test_agent_failures.py runs the agents on, without Kafka: records with the fields
Faust gives, a World whose collaborators record each step (one of them broken), and the wire_* functions that
connect each agent of the worker to that world."""

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from infra.settings import Settings
from schemas.api import JobType
from schemas.events import (
    JOB_RESULT,
    CreditNoteRequested,
    EmailReason,
    InvoiceEmailRequested,
    JobRequested,
    OrderFailed,
    OrderInvoiceRequested,
    RefundRequested,
)
from schemas.orders import parse_order_event
from streams.app import Topics
from streams.emailing import InvoiceEmailLocks
from tests.factories import encoded, order_event


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass
class Event:
    message: Message
    headers: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def value(self) -> bytes:
        return self.message.value


def record(value: bytes, offset: int = 7) -> Event:
    return Event(Message("invoice-order-requests", 1, offset, b"shop:o-1", value))


class Sent:
    def __await__(self) -> Any:
        yield from ()


class World:
    """The steps the agent took, per record, and the steps broken for the first record."""

    def __init__(self, broken: set[str]) -> None:
        self.broken = broken
        self.steps: list[tuple[str, int]] = []
        self.current = 0  # the record the agent has in hand: set as the stream hands it out

    def step(self, name: str) -> None:
        self.steps.append((name, self.current))
        if name in self.broken and self.current == 1:
            raise RuntimeError(f"injected defect in {name}")

    def sync(self, name: str, function: Any) -> Any:
        def stepped(*args: Any, **kwargs: Any) -> Any:
            self.step(name)
            return function(*args, **kwargs)

        return stepped

    def asynchronous(self, name: str, result: Any = None) -> Any:
        async def stepped(*args: Any, **_: Any) -> Any:
            self.step(name)
            return result(*args) if callable(result) else result

        return stepped


class Stream:
    """The Faust stream an agent reads: its events one by one, or in batches (of one here)."""

    def __init__(self, world: World, values: list[bytes]) -> None:
        self.world, self.values = world, values

    async def events(self) -> Any:
        for number, value in enumerate(self.values, start=1):
            self.world.current = number
            yield record(value, offset=number)

    async def take_events(self, _: int, within: float) -> Any:
        async for event in self.events():
            yield [event]


def topic(world: World, step: str) -> Any:
    """A topic (streams/app.py Topic) whose sends are a step."""
    return SimpleNamespace(channel=None, send=world.asynchronous(step, Sent()), publish=world.asynchronous(step))


def resources(**parts: Any) -> Any:
    async def opened() -> Any:
        return SimpleNamespace(settings=Settings(), **parts)

    return opened


class Registry:
    """Stands in for the Faust app: keeps the agent functions each module registers, by their name."""

    def __init__(self) -> None:
        self.agents: dict[str, Any] = {}

    def agent(self, channel: Any, *, name: str, **_: Any) -> Any:
        def register(fun: Any) -> Any:
            self.agents[name.rsplit(".", 1)[-1]] = fun
            return fun

        return register


def registered(module: Any, agent: str, opened: Any, **topics: Any) -> Any:
    """The agent function `module.register` makes, on stand-in topics (`topics` replace some) and resources."""
    stand_ins = {name: SimpleNamespace(channel=None, send=None, publish=None) for name in Topics.__annotations__}
    app = Registry()
    module.register(app, SimpleNamespace(**{**stand_ins, **topics}), opened, Settings())
    return app.agents[agent]


def wire_orders(world: World, patch: pytest.MonkeyPatch) -> tuple[Any, list[bytes]]:
    from streams.agents import orders

    patch.setattr(orders, "parse_order_event", world.sync("parse", parse_order_event))
    opened = resources(orders=SimpleNamespace(store_snapshot=world.asynchronous("store")))
    return registered(orders, "store_orders", opened), [encoded(order_event("shop", f"o-{n}")) for n in (1, 2)]


def wire_plan(world: World, patch: pytest.MonkeyPatch) -> tuple[Any, list[bytes]]:
    from streams.agents import plan

    patch.setattr(plan, "parse_job_request", world.sync("parse", plan.parse_job_request))
    patch.setattr(plan, "job_order_ids", world.asynchronous("select orders", ["o-1"]))
    patch.setattr(plan, "unrecorded_job", world.asynchronous("check"))
    agent = registered(
        plan,
        "plan_jobs",
        resources(jobs=None),
        order_results=topic(world, "publish plan"),
        order_requests=topic(world, "request orders"),
    )
    jobs = [JobRequested(tenant="shop", jobId=f"j-{n}", jobType=JobType.MANUAL, orderIds=["o-1"]) for n in (1, 2)]
    return agent, [job.to_bytes() for job in jobs]


def wire_invoice(world: World, patch: pytest.MonkeyPatch) -> tuple[Any, list[bytes]]:
    from streams.agents import invoice

    parse = OrderInvoiceRequested.model_validate_json
    patch.setattr(OrderInvoiceRequested, "model_validate_json", staticmethod(world.sync("parse", parse)))

    def failed(request: OrderInvoiceRequested, _: Any) -> OrderFailed:
        return OrderFailed(tenant=request.tenant, jobId=request.jobId, orderId=request.orderId, reason="no")

    patch.setattr(invoice, "invoice_order", world.asynchronous("invoice", failed))
    claims = SimpleNamespace(release=world.asynchronous("release claim"))
    patch.setattr(invoice, "unrecorded_order_request", world.asynchronous("check"))
    opened = resources(
        claims=claims, jobs=None, pipeline_deps=lambda _: None, announce=world.asynchronous("announce failure")
    )
    agent = registered(invoice, "invoice_orders", opened, order_results=topic(world, "publish result"))
    requests = [
        OrderInvoiceRequested(tenant="shop", jobId="j-1", orderId=f"o-{n}", jobType=JobType.MANUAL) for n in (1, 2)
    ]
    return agent, [request.to_bytes() for request in requests]


def credit_resources(world: World) -> Any:
    credit_notes = SimpleNamespace(finish_request=world.asynchronous("fail request"))
    return resources(
        credit_deps=lambda *_: SimpleNamespace(credit_notes=credit_notes),
        email_deps=lambda: SimpleNamespace(invoices=None, sending=InvoiceEmailLocks()),
        reminders=None,
        tenant_settings=None,
    )


def wire_credit(world: World, patch: pytest.MonkeyPatch) -> tuple[Any, list[bytes]]:
    from streams.agents import credit

    parse = CreditNoteRequested.model_validate_json
    patch.setattr(CreditNoteRequested, "model_validate_json", staticmethod(world.sync("parse", parse)))
    patch.setattr(credit, "unrecorded_credit_note", world.asynchronous("check"))
    patch.setattr(credit, "make_credit_note", world.asynchronous("make credit note"))
    agent = registered(credit, "make_credit_notes", credit_resources(world))
    requests = [
        CreditNoteRequested(tenant="shop", creditNoteId=f"c-{n}", orderId="o-1", invoiceNumber="N1", reason="x")
        for n in (1, 2)
    ]
    return agent, [request.to_bytes() for request in requests]


def wire_refunds(world: World, patch: pytest.MonkeyPatch) -> tuple[Any, list[bytes]]:
    from streams.agents import credit

    parse = RefundRequested.model_validate_json
    patch.setattr(RefundRequested, "model_validate_json", staticmethod(world.sync("parse", parse)))
    patch.setattr(credit, "retry_refund", world.asynchronous("refund"))
    agent = registered(credit, "retry_refunds", credit_resources(world))
    requests = [RefundRequested(tenant="shop", creditNoteId=f"c-{n}") for n in (1, 2)]
    return agent, [request.to_bytes() for request in requests]


def wire_emails(world: World, patch: pytest.MonkeyPatch, credit_note: str | None) -> tuple[Any, list[bytes]]:
    from streams.agents import emails

    parse = InvoiceEmailRequested.model_validate_json
    patch.setattr(InvoiceEmailRequested, "model_validate_json", staticmethod(world.sync("parse", parse)))
    patch.setattr(emails, "unrecorded_email_request", world.asynchronous("check"))
    patch.setattr(emails, "send_requested_email", world.asynchronous("email invoice"))
    patch.setattr(emails, "send_requested_credit_note", world.asynchronous("email credit note"))
    agent = registered(emails, "email_invoices", credit_resources(world))
    requests = [
        InvoiceEmailRequested(
            tenant="shop", orderId=f"o-{n}", invoiceNumber="N1", reason=EmailReason.RESEND, creditNoteId=credit_note
        )
        for n in (1, 2)
    ]
    return agent, [request.to_bytes() for request in requests]


def wire_project(world: World, patch: pytest.MonkeyPatch) -> tuple[Any, list[bytes]]:
    from streams.agents import project

    patch.setattr(JOB_RESULT, "validate_json", world.sync("parse", JOB_RESULT.validate_json))
    jobs = SimpleNamespace(record_results=world.asynchronous("fold"), record_planned=world.asynchronous("fold"))
    patch.setattr(project, "announce_completed_jobs", world.asynchronous("announce completed jobs"))
    agent = registered(project, "project_results", resources(jobs=jobs, announce=None))
    results = [OrderFailed(tenant="shop", jobId=f"j-{n}", orderId="o-1", reason="no") for n in (1, 2)]
    return agent, [result.to_bytes() for result in results]
