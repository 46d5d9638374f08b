"""AUTOMATIC jobs: the tenant's invoice settings select the orders, with the real services."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from infra.db import ensure_indexes
from infra.mapping import order_selection
from infra.orders import selection_queries
from schemas.settings import InvoiceSettings
from tests.integration.flows import create_job, finished_job, stored
from tests.support import WorkerProcess, wait_for

pytestmark = pytest.mark.integration

Publish = Callable[..., Awaitable[None]]


def delivered(ago: timedelta) -> str:
    return (datetime.now(UTC) - ago).isoformat()


async def put_invoice_settings(api: httpx.AsyncClient, tenant: str, **settings: object) -> None:
    response = await api.put(f"/invoice/{tenant}/settings/invoice", json=settings)
    assert response.status_code == 200, response.text


def order_results(job: dict[str, Any]) -> dict[str, str]:
    return {order["orderId"]: order["orderStatus"] for order in job["orders"]}


async def test_automatic_job_takes_exactly_the_orders_its_settings_select(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    tenant: str,
    new_order_event: Callable[..., dict[str, Any]],
) -> None:
    await put_invoice_settings(api, tenant, threshold=24, status="COMPLETED,SHIPPED", extendedOrderStatus="70,75")
    long_ago, just_over, just_under = timedelta(days=3), timedelta(hours=24, minutes=5), timedelta(hours=23, minutes=55)
    orders: dict[str, dict[str, Any]] = {
        "take-completed": {"status": "COMPLETED", "extendedOrderStatus": "70", "deliveryDate": delivered(long_ago)},
        "take-shipped-at-threshold": {
            "status": "SHIPPED",
            "extendedOrderStatus": "75",
            "deliveryDate": delivered(just_over),
        },
        "take-bare-date": {"status": "COMPLETED", "extendedOrderStatus": "70", "deliveryDate": "2026-01-15"},
        "skip-status": {"status": "CONFIRMED", "extendedOrderStatus": "70", "deliveryDate": delivered(long_ago)},
        "skip-extended-status": {
            "status": "COMPLETED",
            "extendedOrderStatus": "80",
            "deliveryDate": delivered(long_ago),
        },
        "skip-no-extended-status": {"status": "COMPLETED", "deliveryDate": delivered(long_ago)},
        "skip-under-threshold": {
            "status": "COMPLETED",
            "extendedOrderStatus": "70",
            "deliveryDate": delivered(just_under),
        },
        "skip-not-delivered": {"status": "COMPLETED", "extendedOrderStatus": "70", "deliveryDate": None},
        "skip-invoiced": {"status": "COMPLETED", "extendedOrderStatus": "70", "deliveryDate": delivered(long_ago)},
    }
    await publish_orders(tenant, *(new_order_event(tenant, order_id, **fields) for order_id, fields in orders.items()))
    await stored(stored_order, tenant, *orders)
    manual = await finished_job(api, tenant, await create_job(api, tenant, ["skip-invoiced"]))
    assert order_results(manual) == {"skip-invoiced": "SUCCESS"}

    job = await finished_job(api, tenant, await create_job(api, tenant))

    assert job["jobType"] == "AUTOMATIC"
    assert order_results(job) == {
        "take-bare-date": "SUCCESS",
        "take-completed": "SUCCESS",
        "take-shipped-at-threshold": "SUCCESS",
    }
    assert all(order["invoiceNumber"] and order["downloadLink"] for order in job["orders"])

    # Nothing is left that the settings select: the next job is DONE with no orders.
    again = await finished_job(api, tenant, await create_job(api, tenant))
    assert again["orders"] == []
    assert again["totalOrders"] == 0


async def test_without_extended_status_any_extended_status_is_taken(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    tenant: str,
    new_order_event: Callable[..., dict[str, Any]],
) -> None:
    await put_invoice_settings(api, tenant, threshold="0", status="COMPLETED")
    await publish_orders(
        tenant,
        new_order_event(tenant, "with-extended", extendedOrderStatus="99"),
        new_order_event(tenant, "without-extended"),
    )
    await stored(stored_order, tenant, "with-extended", "without-extended")
    job = await finished_job(api, tenant, await create_job(api, tenant))
    assert order_results(job) == {"with-extended": "SUCCESS", "without-extended": "SUCCESS"}


async def test_a_failed_order_is_taken_again_by_the_next_job(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    tenant: str,
    new_order_event: Callable[..., dict[str, Any]],
) -> None:
    await put_invoice_settings(api, tenant, threshold=0, status="COMPLETED")
    await publish_orders(tenant, new_order_event(tenant, "wrong-total", total="99.99"))
    await stored(stored_order, tenant, "wrong-total")
    first = await finished_job(api, tenant, await create_job(api, tenant))
    assert order_results(first) == {"wrong-total": "FAILURE"}

    # The upstream service corrects the order; the next AUTOMATIC job invoices it.
    corrected = new_order_event(tenant, "wrong-total", occurred_at=datetime.now(UTC) + timedelta(seconds=1))
    await publish_orders(tenant, corrected)

    async def correction_stored() -> bool:
        order = await stored_order(tenant, "wrong-total")
        return bool(order and str(order["order"]["totalPrice"]) == "58.76")

    await wait_for(correction_stored, timeout=60, what="the corrected order in the store")
    second = await finished_job(api, tenant, await create_job(api, tenant))
    assert order_results(second) == {"wrong-total": "SUCCESS"}


async def test_overlapping_automatic_jobs_never_share_an_order(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    second_worker: WorkerProcess,
    publish_orders: Publish,
    stored_order: Any,
    tenant: str,
    new_order_event: Callable[..., dict[str, Any]],
) -> None:
    await put_invoice_settings(api, tenant, threshold=1, status="COMPLETED")
    order_ids = [f"overlap-{i:03d}" for i in range(40)]
    await publish_orders(tenant, *(new_order_event(tenant, order_id) for order_id in order_ids))
    await stored(stored_order, tenant, *order_ids)

    job_ids = await asyncio.gather(*(create_job(api, tenant) for _ in range(3)))
    jobs = [await finished_job(api, tenant, job_id, timeout=300) for job_id in job_ids]

    taken = [order["orderId"] for job in jobs for order in job["orders"]]
    assert sorted(taken) == order_ids  # every order in exactly one job
    assert all(order["orderStatus"] == "SUCCESS" for job in jobs for order in job["orders"])


def plan_nodes(plan: Any) -> list[str]:
    """The node types (and index names) of a query plan, however deep."""
    if isinstance(plan, dict):
        own = [f"{plan['Node Type']} {plan.get('Index Name', '')}".strip()] if "Node Type" in plan else []
        return own + [node for value in plan.values() for node in plan_nodes(value)]
    if isinstance(plan, list):
        return [node for value in plan for node in plan_nodes(value)]
    return []


async def assert_selection_served_by_index(db: Any, query: dict[str, Any], mongo_index: str) -> None:
    """An AUTOMATIC selection query of the orders is an index lookup: on FerretDB pushed down and answered
    by a GIN index, never a sequential scan; on MongoDB the winning plan uses `mongo_index`."""
    plan = await db.command("explain", {"find": "orders", "filter": query}, verbosity="queryPlanner")
    if "ferretdbVersion" in plan.get("serverInfo", {}):
        assert plan["filterPushdown"] is True
        nodes = plan_nodes(plan["queryPlanner"])
        assert not any(node.startswith("Seq Scan") for node in nodes), nodes
        assert any(node.startswith("Bitmap Index Scan gin_") for node in nodes), nodes
    else:
        winning = json.dumps(plan["queryPlanner"]["winningPlan"])
        assert mongo_index in winning, winning


async def test_order_selection_is_served_by_an_index(mongo_db: Any) -> None:
    """Among thousands of other tenants' orders, each selection query is an index lookup: on MongoDB the
    winning plan scans (tenant, awaitingInvoice, status, deliveredAt); on FerretDB the equality part is
    pushed down and PostgreSQL answers it from the GIN indexes beside FerretDB's (no sequential scan)."""
    await ensure_indexes(mongo_db)
    indexes = await mongo_db.orders.index_information()
    compound = [("tenant", 1), ("awaitingInvoice", 1), ("status", 1), ("deliveredAt", 1)]
    assert compound in [index["key"] for index in indexes.values()]
    others = [
        {
            "_id": f"other{i % 300}:o{i}",
            "tenant": f"other{i % 300}",
            "awaitingInvoice": i % 2 == 0,
            "status": "COMPLETED",
        }
        for i in range(3000)
    ]
    await mongo_db.orders.insert_many(others, ordered=False)

    selection = order_selection(InvoiceSettings(threshold="24", status="COMPLETED,SHIPPED", extendedOrderStatus="70"))
    queries = selection_queries("shop", selection, selection.delivered_before(datetime.now(UTC)))
    assert len(queries) == 2  # one per status: each an equality the index serves
    for query in queries:
        await assert_selection_served_by_index(mongo_db, query, "tenant_1_awaitingInvoice_1_status_1_deliveredAt_1")
    await mongo_db.orders.delete_many({"tenant": {"$in": [f"other{i}" for i in range(300)]}})
