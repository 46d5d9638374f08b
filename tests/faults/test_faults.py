"""The fault suite: each case runs a job of 200 orders on the private services (tests/faults/conftest.py),
injects its fault by pid once some but not all orders are done, brings the part back, and ends with the
same audit (tests/faults/audit.py)."""

import asyncio
import signal
import time
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from infra.settings import Settings
from tests.factories import encoded, order_event
from tests.fakes import FakePaymentGateway, SmtpSink
from tests.faults.audit import audit_job, order_log_entries
from tests.faults.conftest import JOB_SIZE, PrivateServices, Workers, buyer_address, card
from tests.integration.flows import create_job, finished_job, pdf_bytes
from tests.support import WorkerProcess, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.faults]

STARTED = 20  # invoices issued before the fault is injected


class Case:
    """One fault case's job on the private services, and its audit."""

    def __init__(
        self,
        *,
        tenant: str,
        api: httpx.AsyncClient,
        db: Any,
        settings: Settings,
        producer: AIOKafkaProducer,
        gateway: FakePaymentGateway,
        smtp: SmtpSink,
    ) -> None:
        self.tenant, self.api, self.db, self.settings = tenant, api, db, settings
        self.producer, self.gateway, self.smtp = producer, gateway, smtp
        self.order_ids = [f"o-{i:03d}" for i in range(JOB_SIZE)]
        self.job_id = ""

    async def start_job(self) -> None:
        """Publishes the orders (each with a card payment to capture and the tenant's own address), waits
        until the worker stored them, and creates the MANUAL job of all of them."""
        topic = self.settings.topic(self.settings.topic_order_events)
        for order_id in self.order_ids:
            event = order_event(self.tenant, order_id, payments=card(f"ok-{self.tenant}-{order_id}"))
            event["order"]["customer"]["email"] = buyer_address(self.tenant)
            await self.producer.send(topic, encoded(event), key=f"{self.tenant}:{order_id}".encode())
        await self.producer.flush()

        async def all_stored() -> bool:
            return bool(await self.db.orders.count_documents({"tenant": self.tenant}) >= JOB_SIZE)

        await wait_for(all_stored, timeout=120, what="the job's orders in the order store")
        self.job_id = await create_job(self.api, self.tenant, self.order_ids)

    async def issued(self) -> int:
        count: int = await self.db.invoices.count_documents({"tenant": self.tenant, "issuedAt": {"$ne": None}})
        return count

    async def wait_issued(self, at_least: int) -> None:
        async def enough() -> bool:
            return await self.issued() >= at_least

        await wait_for(enough, timeout=180, what=f"{at_least} invoices of the job")

    async def assert_mid_job(self) -> None:
        assert await self.issued() < JOB_SIZE, "the job finished before the fault; the case proves nothing"

    async def finish_and_audit(self, timeout: float = 300, all_succeed: bool = True) -> dict[str, Any]:
        job = await finished_job(self.api, self.tenant, self.job_id, timeout=timeout)
        if all_succeed:
            assert [order["orderStatus"] for order in job["orders"]] == ["SUCCESS"] * len(self.order_ids), [
                order["message"] for order in job["orders"] if order["orderStatus"] != "SUCCESS"
            ][:3]
        await self.wait_emails()
        await audit_job(
            job,
            tenant=self.tenant,
            order_ids=self.order_ids,
            db=self.db,
            settings=self.settings,
            gateway=self.gateway,
            smtp=self.smtp,
            recipient=buyer_address(self.tenant),
        )
        return job

    async def wait_emails(self) -> None:
        """Emails whose first send failed are sent by the email agent, possibly after the job is DONE."""

        async def all_emailed() -> bool:
            invoices = await self.db.invoices.count_documents({"tenant": self.tenant})
            emailed = await self.db.invoices.count_documents({"tenant": self.tenant, "emailedAt": {"$ne": None}})
            return bool(emailed >= invoices)

        await wait_for(all_emailed, timeout=120, what="every invoice of the job emailed")


@pytest.fixture
def case(
    tenant: str,
    fault_api: httpx.AsyncClient,
    fault_db: Any,
    fault_settings: Settings,
    fault_producer: AIOKafkaProducer,
    fault_gateway: FakePaymentGateway,
    fault_smtp: SmtpSink,
) -> Case:
    return Case(
        tenant=tenant,
        api=fault_api,
        db=fault_db,
        settings=fault_settings,
        producer=fault_producer,
        gateway=fault_gateway,
        smtp=fault_smtp,
    )


def assert_logs_name_the_order(*processes: WorkerProcess, tenant: str) -> None:
    """INVOICE_LOG_JSON applies to the worker, and every line about one of the tenant's orders names
    tenant, job and order."""
    entries = [entry for process in processes for entry in order_log_entries(process.log_path.read_bytes(), tenant)]
    issued = [entry for entry in entries if entry["event"] == "invoice issued"]
    assert issued, "no JSON log line about an issued invoice of the tenant"
    about_orders = [entry for entry in entries if "order" in entry]
    assert all(entry.get("job") for entry in about_orders), [e for e in about_orders if not e.get("job")][:2]


async def test_worker_stopped_gracefully_mid_job_exits_in_time_and_nothing_is_half_done(
    case: Case, workers: Workers
) -> None:
    first = await workers("sigterm")
    await case.start_job()
    await case.wait_issued(STARTED)
    assert first.process is not None
    first.process.send_signal(signal.SIGTERM)
    stopping = time.monotonic()
    exit_code = await asyncio.to_thread(first.process.wait, 30)
    assert time.monotonic() - stopping < 30
    assert exit_code == 0, f"the worker did not stop cleanly (exit code {exit_code}); see {first.log_path}"
    await case.assert_mid_job()

    second = await workers("after-sigterm")
    await case.finish_and_audit()
    assert_logs_name_the_order(first, second, tenant=case.tenant)


async def test_two_workers_one_killed_mid_job_the_other_takes_its_partitions(case: Case, workers: Workers) -> None:
    doomed = await workers("doomed")
    survivor = await workers("survivor")
    await case.start_job()
    await case.wait_issued(STARTED)
    doomed.kill()
    await case.assert_mid_job()
    await case.finish_and_audit()
    assert survivor.process is not None and survivor.process.poll() is None


async def test_kafka_killed_mid_job_api_answers_503_and_the_job_completes_without_a_worker_restart(
    case: Case, workers: Workers, private_services: PrivateServices
) -> None:
    worker = await workers("kafka-fault")
    await case.start_job()
    await case.wait_issued(STARTED)
    await private_services.kill("kafka")
    await case.assert_mid_job()
    response = await case.api.post(
        f"/invoice/{case.tenant}/jobs/invoices", json={"jobType": "MANUAL", "orderIds": ["o-000"]}
    )
    assert response.status_code == 503, response.text
    assert "Kafka" in response.json()["message"] and response.json()["code"] == "503"
    private_services.start("kafka")
    await case.finish_and_audit()
    assert worker.process is not None and worker.process.poll() is None, "the worker did not survive"


async def test_mongodb_killed_mid_job_api_answers_503_and_the_job_completes(
    case: Case, workers: Workers, private_services: PrivateServices
) -> None:
    worker = await workers("mongo-fault")
    await case.start_job()
    await case.wait_issued(STARTED)
    await private_services.kill("ferretdb")
    post = await case.api.post(
        f"/invoice/{case.tenant}/jobs/invoices", json={"jobType": "MANUAL", "orderIds": ["o-000"]}
    )
    get = await case.api.get(f"/invoice/{case.tenant}/jobs/invoices/{case.job_id}")
    for response in (post, get):
        assert response.status_code == 503, response.text
        assert "MongoDB" in response.json()["message"] and response.json()["code"] == "503"
    private_services.start("ferretdb")
    await case.assert_mid_job()
    await case.finish_and_audit()
    assert worker.process is not None and worker.process.poll() is None, "the worker did not survive"


async def test_storage_stopped_mid_job_orders_wait_and_links_work_after(
    case: Case, workers: Workers, private_services: PrivateServices
) -> None:
    worker = await workers("storage-fault")
    await case.start_job()
    await case.wait_issued(STARTED)
    private_services.stop("minio")
    stalled = await case.issued()
    await case.assert_mid_job()

    async def retried_meanwhile() -> bool:
        # The worker is waiting on storage: its log says it retries.
        return b"Retrying" in worker.log_path.read_bytes()

    await wait_for(retried_meanwhile, timeout=60, what="the worker to retry the stored PDF")
    assert await case.issued() <= stalled + 4, "invoices were issued while the storage was away"  # in flight
    private_services.start("minio")
    job = await case.finish_and_audit()
    for order in job["orders"][:3]:
        assert (await pdf_bytes(order["downloadLink"])).startswith(b"%PDF")


async def test_mail_server_and_gateway_away_mid_job_no_email_lost_or_sent_twice_no_order_charged_twice(
    case: Case, workers: Workers, fault_smtp: SmtpSink, fault_gateway: FakePaymentGateway
) -> None:
    await workers("smtp-gateway-fault")
    await case.start_job()
    await case.wait_issued(STARTED)
    fault_smtp.stop()
    try:
        await case.assert_mid_job()
        await case.wait_issued(STARTED + 30)  # invoices go on being made while no email can be sent
        fault_gateway.unavailable = True

        async def some_failed() -> bool:
            response = await case.api.get(f"/invoice/{case.tenant}/jobs/invoices/{case.job_id}")
            orders: list[dict[str, Any]] = response.json()["orders"]
            return sum(1 for order in orders if order["orderStatus"] == "FAILURE") >= 5

        await wait_for(some_failed, timeout=120, what="orders failing while the gateway is away")
    finally:
        fault_gateway.unavailable = False
        fault_smtp.start()
    job = await case.finish_and_audit(all_succeed=False)
    failed = [order for order in job["orders"] if order["orderStatus"] == "FAILURE"]
    assert all("payment capture not confirmed" in order["message"] for order in failed), failed[:2]

    # The failed orders are invoiced by a later job, each charged once.
    case.order_ids = [order["orderId"] for order in failed]
    case.job_id = await create_job(case.api, case.tenant, case.order_ids)
    await case.finish_and_audit()
