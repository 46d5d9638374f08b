"""Claims in MongoDB: which AUTOMATIC job takes an order.

`_id` is tenant:orderId, so of two AUTOMATIC jobs that select the same order at the same time, exactly
one inserts the claim. A claim is released when its order fails, so a later job retries it."""

from collections.abc import Iterable

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from infra.db import Document, ignore_duplicates
from schemas.events import utc_now


class OrderClaims:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.claims: AsyncCollection[Document] = db.order_claims

    async def claim(self, *, tenant: str, job_id: str, order_ids: Iterable[str]) -> None:
        now = utc_now()
        claims = [
            {"_id": f"{tenant}:{order_id}", "tenant": tenant, "orderId": order_id, "jobId": job_id, "claimedAt": now}
            for order_id in order_ids
        ]
        if claims:
            try:
                await self.claims.insert_many(claims, ordered=False)
            except BulkWriteError as error:
                ignore_duplicates(error)  # claimed before: by another job, or by this one before a redelivery

    async def claimed_by(self, tenant: str, job_id: str) -> list[str]:
        cursor = self.claims.find({"jobId": job_id, "tenant": tenant}, {"orderId": 1}).sort("orderId", ASCENDING)
        return [doc["orderId"] async for doc in cursor]

    async def holds(self, *, tenant: str, job_id: str, order_id: str) -> bool:
        """Whether this job claimed this order (and has not released it): one read by `_id`."""
        return await self.claims.find_one({"_id": f"{tenant}:{order_id}", "jobId": job_id}, {"_id": 1}) is not None

    async def release(self, *, tenant: str, job_id: str, order_id: str) -> None:
        await self.claims.delete_one({"_id": f"{tenant}:{order_id}", "jobId": job_id})
