"""One topic contract (schemas/topics.py): every topic declared once with its records and key function;
senders key records by it, never by hand; the worker's topics, the CLI and the AsyncAPI document read it."""

import ast
from pathlib import Path
from typing import Any

from infra.settings import Settings
from schemas.api import JobType
from schemas.events import JobPlanned, OrderFailed, OrderInvoiced, OrderInvoiceRequested
from schemas.topics import ORDER_REQUESTS, ORDER_RESULTS, TOPICS
from streams.app import Topic, Topics, create_faust_app, create_topics, topic_name

ROOT = Path(__file__).parents[2]
SENDERS = ("streams", "service", "infra", "cli", "bench", "bootstrap")
# Calls that publish a record, and the position of their key among the positional arguments.
KEY_POSITION: dict[str, int | None] = {"send": None, "send_and_wait": None, "publish": 1, "publish_or_withdraw": 2}


def is_hand_built(node: ast.expr) -> bool:
    """An f-string, or an f-string's .encode(): a key built by hand."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "encode":
        node = node.func.value
    return isinstance(node, ast.JoinedStr)


def hand_built_keys(source: str) -> list[int]:
    """The lines of the publishing calls whose key is built by hand."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in KEY_POSITION:
            continue
        keys = [keyword.value for keyword in node.keywords if keyword.arg == "key"]
        position = KEY_POSITION[name]
        if position is not None and len(node.args) > position:
            keys.append(node.args[position])
        lines += [node.lineno for key in keys if is_hand_built(key)]
    return lines


def test_no_sender_builds_a_key_by_hand() -> None:
    breaches = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in SENDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line in hand_built_keys(path.read_text())
    ]
    assert breaches == [], "key each record by its topic's spec (schemas/topics.py)"


def test_the_scan_sees_a_hand_built_key() -> None:
    source = (
        "topic.send(key=f'{a}:{b}'.encode(), value=v)\n"
        "publisher.publish(topic, f'{a}:{b}', value)\n"
        "publish_or_withdraw(publisher, topic, f'{a}', value, withdraw, f'job {a}')\n"
        "topic.send(key=spec.key_of(record), value=v)\n"
        "publish_or_withdraw(publisher, topic, spec.key_text(r), value, withdraw, f'job {a}')\n"
    )
    assert hand_built_keys(source) == [1, 2, 3]


class Channel:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, bytes]] = []

    async def send(self, key: bytes, value: bytes, headers: Any = None) -> Any:
        self.sent.append((key, value))

        async def acknowledged() -> None:
            return None

        return acknowledged()


async def test_a_topic_keys_each_record_by_its_spec_one_job_on_one_key() -> None:
    """One job's plan and results go under one key (one partition): what keeps the projection correct."""
    channel = Channel()
    results = Topic(channel, ORDER_RESULTS)
    records: list[JobPlanned | OrderInvoiced | OrderFailed] = [
        JobPlanned(tenant="shop", jobId="j-1", totalOrders=2, part=0, parts=1, firstPosition=0, orderIds=["a", "b"]),
        OrderInvoiced(tenant="shop", jobId="j-1", orderId="a", invoiceNumber="N1", message="made"),
        OrderFailed(tenant="shop", jobId="j-1", orderId="b", reason="no"),
    ]
    for record in records:
        await results.publish(record)
    assert [key for key, _ in channel.sent] == [b"shop:j-1"] * 3
    assert [value for _, value in channel.sent] == [record.to_bytes() for record in records]
    request = OrderInvoiceRequested(tenant="shop", jobId="j-1", orderId="a", jobType=JobType.MANUAL)
    await (await Topic(channel, ORDER_REQUESTS).send(request))  # sent, then acknowledged
    assert channel.sent[-1][0] == b"shop:a"


def test_every_topic_is_declared_once_and_named_by_its_setting() -> None:
    assert len({spec.setting for spec in TOPICS}) == len({spec.default for spec in TOPICS}) == len(TOPICS)
    defaults = Settings.model_fields
    assert all(defaults[spec.setting].default == spec.default for spec in TOPICS)


def test_the_worker_has_a_faust_topic_for_every_declared_topic() -> None:
    settings = Settings(topic_prefix="t-")
    topics = create_topics(create_faust_app(settings), settings)
    made = [getattr(topics, name) for name in Topics.__annotations__]
    assert {id(topic.spec) for topic in made} == {id(spec) for spec in TOPICS} and len(made) == len(TOPICS)
    for topic in made:
        assert topic.channel.get_topic_name() == topic_name(settings, topic.spec)
        assert topic.channel.get_topic_name() == "t-" + getattr(settings, topic.spec.setting)
        assert topic.channel.partitions == settings.topic_partitions


def test_the_cli_ensures_every_declared_topic() -> None:
    source = (ROOT / "cli" / "__init__.py").read_text()
    assert "topic_name(settings, spec) for spec in TOPICS" in source
    assert "settings.topic_" not in source.split("def worker")[1]  # no topic listed again by hand
