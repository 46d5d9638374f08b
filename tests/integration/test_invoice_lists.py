"""Invoices, credit notes and jobs as lists (extensions of issue 15, part A), against the real services:
filters, newest-first keyset pages that stay stable while invoices are added, one invoice with its lines
and credit notes, every 4xx, and the query plans (FerretDB pushes each list's equality part down)."""

import base64
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from infra.db import ensure_indexes
from infra.invoices import InvoiceRepository
from invoicing.document import DEFAULT_SELLER, build_invoice_document
from invoicing.recalculation import recalculate
from schemas.orders import parse_order_event
from tests.factories import encoded, order_event
from tests.integration.flows import create_job, finished_job, invoice_events, pdf_bytes, stored
from tests.support import WorkerProcess

pytestmark = pytest.mark.integration


async def issue_directly(mongo_db: Any, tenant: str, *order_ids: str, first_seq: int = 1) -> list[str]:
    """Invoices made through the invoice adapter itself (allocate, then mark issued), without a job:
    for tests about reading them. Returns their numbers, oldest first."""
    invoices = InvoiceRepository(mongo_db)
    numbers = []
    for offset, order_id in enumerate(order_ids):
        number = f"INV-{first_seq + offset:06d}"
        order = parse_order_event(encoded(order_event(tenant, order_id))).order
        document = build_invoice_document(
            order=order, tenant=tenant, totals=recalculate(order), invoice_number=number,
            issued_at=datetime.now(UTC), seller=DEFAULT_SELLER,
        )  # fmt: skip
        invoice = await invoices.allocate(
            tenant=tenant, order_id=order_id, job_id="job-x", seq=first_seq + offset, number=number, document=document
        )
        assert invoice is not None
        await invoices.mark_issued(invoice, f"{tenant}/invoices/{number}.pdf")
        numbers.append(number)
    return numbers


async def all_pages(api: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = await api.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body.get("nextCursor")
        if cursor is None:
            return items


async def test_issued_invoices_are_listed_newest_first_with_filters_and_read_one_by_one(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Callable[..., Awaitable[None]],
    stored_order: Callable[[str, str], Awaitable[Any]],
    tenant: str,
) -> None:
    results = await invoice_events(
        api, publish_orders, stored_order, tenant, *(order_event(tenant, f"o-{i}") for i in range(3))
    )
    numbers = {order_id: result["invoiceNumber"] for order_id, result in results.items()}
    assert all(result["orderStatus"] == "SUCCESS" for result in results.values()), results

    listed = await all_pages(api, f"/invoice/{tenant}/invoices", limit=2)
    assert sorted(item["number"] for item in listed) == sorted(numbers.values())
    issued = [item["issuedAt"] for item in listed]
    assert issued == sorted(issued, reverse=True)
    first = listed[0]
    assert first["type"] == "invoice"
    assert first["currency"] == "EUR"
    totals = {name: Decimal(value) for name, value in first["totals"].items()}
    assert totals["gross"] == totals["net"] + totals["tax"] > 0
    assert all(isinstance(value, str) for value in first["totals"].values())  # money is never a float
    assert first["credited"] == {"net": "0", "tax": "0", "gross": "0", "notes": []}
    assert first["emailStatus"] in {"SENT", "PENDING", "NOT_SENT"}
    assert first["payment"]["captured"] in {"0", first["totals"]["gross"]}
    assert (await pdf_bytes(first["links"]["pdf"])).startswith(b"%PDF")

    by_order = (await api.get(f"/invoice/{tenant}/invoices", params={"orderId": "o-1"})).json()["items"]
    assert [item["number"] for item in by_order] == [numbers["o-1"]]
    by_number = (await api.get(f"/invoice/{tenant}/invoices", params={"invoiceNumber": numbers["o-2"]})).json()
    assert [item["orderId"] for item in by_number["items"]] == ["o-2"]
    job_id = first["jobId"]
    by_job = await all_pages(api, f"/invoice/{tenant}/invoices", jobId=job_id)
    assert len(by_job) == 3
    assert (await api.get(f"/invoice/{tenant}/invoices", params={"jobId": "no-such-job"})).json()["items"] == []
    email_status = first["emailStatus"]
    by_status = await all_pages(api, f"/invoice/{tenant}/invoices", emailStatus=email_status)
    assert first["number"] in {item["number"] for item in by_status}
    assert all(item["emailStatus"] == email_status for item in by_status)
    after_all = (await api.get(f"/invoice/{tenant}/invoices", params={"issuedFrom": "2999-01-01T00:00:00Z"})).json()
    assert after_all["items"] == []

    one = await api.get(f"/invoice/{tenant}/invoices/{numbers['o-0']}")
    assert one.status_code == 200, one.text
    detail = one.json()
    assert detail["orderId"] == "o-0"
    assert detail["lines"] and detail["lines"][0]["description"] == "Espresso cup"
    assert detail["creditNotes"] == []

    unknown = await api.get(f"/invoice/{tenant}/invoices/INV-999999")
    assert unknown.status_code == 404
    assert "INV-999999" in unknown.json()["message"]
    # Another tenant's invoice is not found, not forbidden: it does not say the number exists.
    other = await api.get(f"/invoice/tother{tenant[1:8]}/invoices/{numbers['o-0']}")
    assert other.status_code == 404


async def test_pages_stay_stable_while_invoices_are_added(api: httpx.AsyncClient, mongo_db: Any, tenant: str) -> None:
    await ensure_indexes(mongo_db)
    older = await issue_directly(mongo_db, tenant, "a", "b", "c", "d", "e")
    first_page = (await api.get(f"/invoice/{tenant}/invoices", params={"limit": 2})).json()
    assert [item["number"] for item in first_page["items"]] == older[:-3:-1]

    newer = await issue_directly(mongo_db, tenant, "f", "g", first_seq=6)  # inserted between two pages
    rest = await all_pages(api, f"/invoice/{tenant}/invoices", limit=2, cursor=first_page["nextCursor"])
    assert [item["number"] for item in rest] == older[-3::-1]  # no repeat, no gap, no newcomer
    everything = await all_pages(api, f"/invoice/{tenant}/invoices", limit=200)
    assert [item["number"] for item in everything] == (older + newer)[::-1]


async def test_credit_notes_written_by_the_credit_side_are_shown(
    api: httpx.AsyncClient, mongo_db: Any, tenant: str
) -> None:
    """The read side of the shape agreed with part B (credit notes): `credit` on the invoice, documents in
    `credit_notes`."""
    [number] = await issue_directly(mongo_db, tenant, "o-1")
    issued_at = datetime.now(UTC).replace(microsecond=0)
    await mongo_db.invoices.update_one(
        {"_id": f"{tenant}:o-1"},
        {
            "$set": {
                "credit": {
                    "net": "10.00",
                    "tax": "1.90",
                    "gross": "11.90",
                    "notes": [{"number": "CN-000001", "issuedAt": issued_at, "gross": "11.90"}],
                }
            }
        },
    )
    await mongo_db.credit_notes.insert_one(
        {
            "_id": f"{tenant}:CN-000001",
            "tenant": tenant,
            "number": "CN-000001",
            "invoiceNumber": number,
            "orderId": "o-1",
            "issuedAt": issued_at,
            "currency": "EUR",
            "totals": {"net": "10.00", "tax": "1.90", "gross": "11.90"},
            "type": "credit-note",
            "storageKey": f"{tenant}/credit-notes/CN-000001.pdf",
        }
    )
    detail = (await api.get(f"/invoice/{tenant}/invoices/{number}")).json()
    assert detail["credited"]["gross"] == "11.90"
    assert [note["number"] for note in detail["credited"]["notes"]] == ["CN-000001"]
    assert [(note["number"], note["type"], note["totals"]["gross"]) for note in detail["creditNotes"]] == [
        ("CN-000001", "credit-note", "11.90")
    ]

    notes = (await api.get(f"/invoice/{tenant}/invoices", params={"type": "credit-note"})).json()["items"]
    assert [(note["number"], note["invoiceNumber"]) for note in notes] == [("CN-000001", number)]
    invoices = (await api.get(f"/invoice/{tenant}/invoices")).json()["items"]
    assert [item["number"] for item in invoices] == [number]

    not_for_notes = await api.get(f"/invoice/{tenant}/invoices", params={"type": "credit-note", "jobId": "j"})
    assert not_for_notes.status_code == 400
    assert "jobId" in not_for_notes.json()["message"]


async def test_jobs_are_listed_newest_first_with_their_counts(
    api: httpx.AsyncClient,
    worker: WorkerProcess,
    publish_orders: Callable[..., Awaitable[None]],
    stored_order: Callable[[str, str], Awaitable[Any]],
    tenant: str,
) -> None:
    await publish_orders(tenant, order_event(tenant, "o-1"), order_event(tenant, "o-2"))
    await stored(stored_order, tenant, "o-1", "o-2")
    mixed = await create_job(api, tenant, ["o-1", "o-2", "missing"])
    await finished_job(api, tenant, mixed)
    again = await create_job(api, tenant, ["o-1"])  # invoiced already: the order fails
    await finished_job(api, tenant, again)

    jobs = await all_pages(api, f"/invoice/{tenant}/jobs/invoices", limit=1)
    assert [job["jobId"] for job in jobs] == [again, mixed]
    latest, first = jobs
    assert first["orderCounts"] == {"SUCCESS": 2, "FAILURE": 1, "PENDING": 0}
    assert first["totalOrders"] == 3
    assert (first["jobStatus"], first["jobType"], first["trigger"]) == ("DONE", "MANUAL", "api")
    assert "orders" not in first
    assert latest["orderCounts"]["SUCCESS"] + latest["orderCounts"]["FAILURE"] == 1

    done = await all_pages(api, f"/invoice/{tenant}/jobs/invoices", status="DONE", jobType="MANUAL")
    assert {job["jobId"] for job in done} == {mixed, again}
    assert (await api.get(f"/invoice/{tenant}/jobs/invoices", params={"jobType": "AUTOMATIC"})).json()["items"] == []
    created = datetime.fromisoformat(latest["createdAt"])
    since = await api.get(f"/invoice/{tenant}/jobs/invoices", params={"createdFrom": created.isoformat(), "limit": 200})
    assert [job["jobId"] for job in since.json()["items"]] == [again]
    before = (created - timedelta(days=1)).isoformat()
    assert (await api.get(f"/invoice/{tenant}/jobs/invoices", params={"createdTo": before})).json()["items"] == []

    invoice_cursor = base64.urlsafe_b64encode(
        json.dumps({"l": "invoice", "at": latest["createdAt"], "id": again}).encode()
    ).decode()
    foreign = await api.get(f"/invoice/{tenant}/jobs/invoices", params={"cursor": invoice_cursor})
    assert foreign.status_code == 400
    assert "cursor" in foreign.json()["message"]
    other_tenant = await api.get(f"/invoice/tother{tenant[1:8]}/jobs/invoices")
    assert other_tenant.status_code == 200 and other_tenant.json()["items"] == []


# --- query plans -----------------------------------------------------------------------------------

LIST_QUERIES: dict[str, dict[str, Any]] = {
    "no filter, issuedFrom/To": {"issuedAt": {"$gte": datetime(1970, 1, 1, tzinfo=UTC)}},
    "jobId": {"jobId": "j", "issuedAt": {"$gte": datetime(1970, 1, 1, tzinfo=UTC)}},
    "emailStatus": {"emailStatus": "SENT", "issuedAt": {"$gte": datetime(1970, 1, 1, tzinfo=UTC)}},
    "invoiceNumber": {"number": "INV-000001", "issuedAt": {"$gte": datetime(1970, 1, 1, tzinfo=UTC)}},
    # All of an order's invoices (more than one once it was invoiced again after a full credit).
    "orderId": {"orderId": "o-1", "issuedAt": {"$gte": datetime(1970, 1, 1, tzinfo=UTC)}},
    # Payments (README "Payments"): the stored status; overdue is the unsettled ones due before today.
    "paymentStatus": {"paymentStatus": "paid", "issuedAt": {"$gte": datetime(1970, 1, 1, tzinfo=UTC)}},
    "paymentStatus=overdue": {
        "settled": False,
        "dueOn": {"$lt": "2026-12-01"},
        "issuedAt": {"$gte": datetime(1970, 1, 1, tzinfo=UTC)},
    },
}
NEXT_PAGE: dict[str, Any] = {
    "$or": [{"issuedAt": {"$lt": datetime.now(UTC)}}, {"issuedAt": datetime.now(UTC), "_id": {"$lt": "z"}}]
}


@pytest.mark.parametrize("query", LIST_QUERIES.values(), ids=LIST_QUERIES.keys())
async def test_every_invoice_list_query_pushes_its_equality_part_down(
    mongo_db: Any, tenant: str, query: dict[str, Any]
) -> None:
    """FerretDB applies only top-level equality filters in PostgreSQL (with the GIN index beside each
    index); the rest is applied in FerretDB to what that matched. Every list query, next pages included,
    keeps tenant and its filter's field as such an equality."""
    await ensure_indexes(mongo_db)
    plan = await mongo_db.command(
        "explain",
        {
            "find": "invoices",
            "filter": {"tenant": tenant, **query, **NEXT_PAGE},
            "sort": {"issuedAt": -1, "_id": -1},
            "limit": 51,
        },
    )
    if "ferretdbVersion" not in plan.get("serverInfo", {}):
        pytest.skip("not FerretDB: the MongoDB plan test covers this server")
    assert plan["filterPushdown"] is True
    pushed = json.dumps(plan["queryPlanner"])
    assert "'tenant'" in pushed


def plan_scans(plan: Any) -> list[tuple[str, str]]:
    """PostgreSQL's plan beneath FerretDB's explain: each node's type and what it reads by (the index
    condition of an index scan, else its relation), however deep."""
    if isinstance(plan, dict):
        read_by = str(plan.get("Index Cond", plan.get("Relation Name", "")))
        own = [(str(plan["Node Type"]), read_by)] if "Node Type" in plan else []
        return own + [scan for value in plan.values() for scan in plan_scans(value)]
    if isinstance(plan, list):
        return [scan for value in plan for scan in plan_scans(value)]
    return []


def plan_stages(plan: Any) -> list[dict[str, Any]]:
    """The stages of a MongoDB winning plan, however deep (an IXSCAN stage names its keyPattern)."""
    if isinstance(plan, dict):
        own = [plan] if "stage" in plan else []
        return own + [stage for value in plan.values() for stage in plan_stages(value)]
    if isinstance(plan, list):
        return [stage for value in plan for stage in plan_stages(value)]
    return []


def other_tenants_invoices(count: int) -> list[dict[str, Any]]:
    """Invoices of other tenants, none with a value the list queries ask for: an index is worth using."""
    issued = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        {
            "_id": f"other{i % 300}:{i}",
            "tenant": f"other{i % 300}",
            "number": f"OTHER-{i:06d}",
            "jobId": f"other-job-{i % 100}",
            "emailStatus": "PENDING",
            "paymentStatus": "open",
            "settled": True,
            "dueOn": "2026-01-15",
            "orderId": f"other-order-{i}",
            "issuedAt": issued - timedelta(minutes=i),
        }
        for i in range(count)
    ]


async def served_by_index(db: Any, collection: str, query: dict[str, Any]) -> list[str]:
    """What is wrong with how each equality of `query` is looked up: on FerretDB each top-level equality
    is pushed down to PostgreSQL, which must answer it from an index on that field (the GIN index
    beside the field's btree index, deploy/local/postgres/gin-beside-btree.sql), never a sequential
    scan; on MongoDB the winning plan scans an index that holds every equality field, and sorts by it."""
    equalities = {name: value for name, value in query.items() if not isinstance(value, dict)}
    full = await db.command(
        "explain", {"find": collection, "filter": query, "sort": {"issuedAt": -1, "_id": -1}, "limit": 51}
    )
    if "ferretdbVersion" not in full.get("serverInfo", {}):
        winning = json.dumps(full["queryPlanner"]["winningPlan"])
        indexed = {
            name for stage in plan_stages(full["queryPlanner"]["winningPlan"]) for name in stage.get("keyPattern", {})
        }
        return [
            *(f"{name}: not in the index of {winning}" for name in equalities if name not in indexed),
            *([f"not an index scan: {winning}"] if "IXSCAN" not in winning or "COLLSCAN" in winning else []),
            *([f"sorted in memory: {winning}"] if '"SORT"' in winning else []),
        ]
    # Asked one at a time: which of several indexed equalities PostgreSQL combines depends on its
    # statistics, but each must have an index it could use.
    problems = []
    for name, value in equalities.items():
        plan = await db.command("explain", {"find": collection, "filter": {name: value}}, verbosity="queryPlanner")
        scans = plan_scans(plan["queryPlanner"])
        by_index = [cond for node, cond in scans if node.endswith("Index Scan") and f"'{name}'" in cond]
        if plan.get("filterPushdown") is not True or not by_index or any(n == "Seq Scan" for n, _ in scans):
            problems.append(f"{name}: pushdown={plan.get('filterPushdown')} {scans}")
    return problems


async def test_every_invoice_list_query_is_served_by_the_indexes(mongo_db: Any, run_id: str) -> None:
    """Against this run's store (FerretDB here, MongoDB under testcontainers), in a database of the
    test's own: every list query's equalities are index lookups once ensure_indexes ran, and the same
    check fails on the same invoices without the indexes (so it can tell one from the other). The
    database's name has a hyphen, which PostgreSQL must quote as a schema name: the GIN trigger once
    quoted it twice and so added no index to such a database."""
    database = f"plans-{run_id}"
    db = mongo_db.client[database]
    try:
        await ensure_indexes(db)
        await db.invoices.insert_many(other_tenants_invoices(3000), ordered=False)
        await db.unindexed.insert_many(other_tenants_invoices(3000), ordered=False)
        for name, query in LIST_QUERIES.items():
            assert await served_by_index(db, "invoices", {"tenant": "t", **query}) == [], name
            assert await served_by_index(db, "unindexed", {"tenant": "t", **query}) != [], name
    finally:
        await mongo_db.client.drop_database(database)
