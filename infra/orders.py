"""The order store in MongoDB: each tenant's newest snapshot of each order, fed by upstream order events."""

from collections.abc import AsyncIterator, Iterable
from datetime import datetime

from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from infra.db import Document, gather_bounded
from infra.records import UnreadableOrder
from invoicing.selection import OrderSelection, delivery_instant
from schemas.orders import Order


class OrderRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.orders: AsyncCollection[Document] = db.orders

    async def store_snapshot(self, *, tenant: str, occurred_at: datetime, order: Order) -> bool:
        """Keep the newest snapshot of an order; an event older than the stored one is ignored.
        Returns whether the snapshot was stored. The fields AUTOMATIC jobs query sit beside the order.

        One round trip: an upsert whose filter matches only a stored snapshot that is not newer. When a
        newer one is stored, the filter misses it and the upsert's insert meets its `_id`."""
        snapshot = {
            "tenant": tenant,
            "orderId": order.id,
            "occurredAt": occurred_at,
            "status": order.status.value,
            "extendedOrderStatus": order.extendedOrderStatus,
            "deliveredAt": delivery_instant(order.deliveryDate),
            "siteCode": order.siteCode,  # the equality of an AUTOMATIC job limited to one site
            "order": order.model_dump(mode="json", exclude_none=True),
        }
        try:
            await self.orders.update_one(
                {"_id": f"{tenant}:{order.id}", "occurredAt": {"$lte": occurred_at}},
                # awaitingInvoice: until an AUTOMATIC job finds its invoice. The equality its selection
                # starts from, so orders invoiced long ago are not read again by every run.
                {"$set": snapshot, "$setOnInsert": {"awaitingInvoice": True}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # a newer snapshot is already stored
        return True

    async def get(self, tenant: str, order_id: str) -> Order | None:
        """The stored order; raises UnreadableOrder when its snapshot no longer passes the model."""
        found = await self.orders.find_one({"_id": f"{tenant}:{order_id}"})
        if found is None:
            return None
        try:
            return Order.model_validate(found["order"])
        except ValidationError as error:
            raise UnreadableOrder(str(error)) from None

    async def select(self, tenant: str, selection: OrderSelection, delivered_before: datetime) -> AsyncIterator[str]:
        """IDs of the tenant's orders that `selection` takes, of those not yet known to be invoiced. One
        query per status, each an equality on (tenant, awaitingInvoice, status) that an index serves (with
        (tenant, siteCode, awaitingInvoice, status) for a job limited to one site);
        the delivery instant and extended status narrow what it found."""
        for query in selection_queries(tenant, selection, delivered_before):
            for doc in await self.orders.find(query, {"orderId": 1}).to_list():
                yield doc["orderId"]

    async def mark_invoiced(self, tenant: str, order_ids: Iterable[str]) -> None:
        """These orders have an invoice: no AUTOMATIC selection reads them again."""
        await gather_bounded(
            self.orders.update_one({"_id": f"{tenant}:{order_id}"}, {"$set": {"awaitingInvoice": False}})
            for order_id in order_ids
        )


def selection_queries(tenant: str, selection: OrderSelection, delivered_before: datetime) -> list[Document]:
    queries: list[Document] = []
    for status in selection.statuses:
        query: Document = {
            "tenant": tenant,
            "awaitingInvoice": True,
            "status": status.value,
            "deliveredAt": {"$lte": delivered_before},
        }
        if selection.extended_statuses:
            query["extendedOrderStatus"] = {"$in": list(selection.extended_statuses)}
        if selection.site_code is not None:
            query["siteCode"] = selection.site_code
        queries.append(query)
    return queries
