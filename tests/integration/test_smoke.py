"""Each real service does what the service relies on, through the client library the service uses."""

import sys
import uuid
from typing import Any

import aioboto3
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo.errors import DuplicateKeyError

from infra.kafka import ensure_topics, kafka_client_options
from infra.settings import Settings
from tests.support import Endpoints, WorkerProcess, wait_for

pytestmark = pytest.mark.integration


async def consume_one(settings: Settings, topic: str, timeout: float = 60) -> Any:
    consumer = AIOKafkaConsumer(
        topic,
        **kafka_client_options(settings),
        group_id=f"smoke-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:

        async def poll() -> Any:
            batch = await consumer.getmany(timeout_ms=500)
            return next((record for records in batch.values() for record in records), None)

        record = await wait_for(poll, timeout=timeout, what=f"a record on {topic}")
        await consumer.commit()
        return record
    finally:
        await consumer.stop()


async def test_kafka_round_trip(settings: Settings, producer: AIOKafkaProducer) -> None:
    topic = settings.topic(f"smoke-{uuid.uuid4().hex[:8]}")
    await producer.send_and_wait(topic, b"hello", key=b"k1")
    record = await consume_one(settings, topic)
    assert (record.key, record.value) == (b"k1", b"hello")


async def test_faust_agent_consumes_and_produces(
    settings: Settings, producer: AIOKafkaProducer, service_env: dict[str, str], run_id: str
) -> None:
    source, sink = settings.topic("smoke-echo-in"), settings.topic("smoke-echo-out")
    await ensure_topics(settings, [source, sink], partitions=1, replication=1)
    echo = WorkerProcess(
        {**service_env, "ECHO_APP_ID": f"echo-{run_id}", "ECHO_IN": source, "ECHO_OUT": sink},
        f"test-echo-{run_id}",
        [sys.executable, "-m", "faust", "-A", "tests.integration.faust_echo", "worker", "-l", "info"],
    )
    await echo.start()
    try:
        await producer.send_and_wait(source, b"invoice")
        record = await consume_one(settings, sink)
        assert record.value == b"INVOICE"
    finally:
        echo.stop()


async def test_mongo_insert_find_and_unique_index(mongo_db: Any) -> None:
    collection = mongo_db[f"smoke_{uuid.uuid4().hex[:8]}"]
    await collection.create_index([("tenant", 1), ("seq", -1)], unique=True)
    await collection.insert_one({"tenant": "shop", "seq": 1, "number": "INV-1"})
    assert (await collection.find_one({"tenant": "shop", "seq": 1}))["number"] == "INV-1"
    with pytest.raises(DuplicateKeyError):
        await collection.insert_one({"tenant": "shop", "seq": 1, "number": "INV-1-again"})
    await collection.insert_one({"tenant": "other", "seq": 1, "number": "INV-1"})  # other tenant: allowed
    assert await collection.count_documents({}) == 2


async def test_s3_put_and_presigned_download(settings: Settings, s3_bucket: str, endpoints: Endpoints) -> None:
    session = aioboto3.Session(
        aws_access_key_id=endpoints.s3_key, aws_secret_access_key=endpoints.s3_secret, region_name=settings.s3_region
    )
    body = uuid.uuid4().bytes * 100
    async with session.client("s3", endpoint_url=settings.s3_endpoint_url) as s3:
        await s3.put_object(Bucket=s3_bucket, Key="smoke/object.bin", Body=body)
        url = await s3.generate_presigned_url(
            "get_object", Params={"Bucket": s3_bucket, "Key": "smoke/object.bin"}, ExpiresIn=60
        )
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.content == body
