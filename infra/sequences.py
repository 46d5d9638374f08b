"""High-water marks of the tenants' number sequences (invoices, credit notes), one small document per
tenant and sequence, read and raised by `_id`. A site with a sequence of its own (invoicing/sites.py) has a
mark of its own per sequence (its scope is its code); the tenant's sequences have the scope "".

A mark only speeds up finding the next free value: the numbered documents carry the uniqueness (a
unique (tenant, seq) index on their collection). A mark may lag behind after a crash; the allocation
then meets the taken value, raises the mark and takes the next one.
"""

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from infra.db import Document
from invoicing.sites import TENANT_SCOPE

INVOICE_SEQUENCE = "invoice"
CREDIT_NOTE_SEQUENCE = "credit-note"


class SequenceMarks:
    def __init__(self, marks: AsyncCollection[Document], sequence: str) -> None:
        self.marks = marks
        self.sequence = sequence

    def _id(self, tenant: str, scope: str) -> str:
        # The invoice marks were keyed by the tenant alone before credit notes had a sequence of their own;
        # a site's are {tenant}:{site}:{sequence} (a site code holds no ':', so they never meet).
        if scope != TENANT_SCOPE:
            return f"{tenant}:{scope}:{self.sequence}"
        return tenant if self.sequence == INVOICE_SEQUENCE else f"{tenant}:{self.sequence}"

    async def last(self, tenant: str, scope: str = TENANT_SCOPE) -> int | None:
        mark = await self.marks.find_one({"_id": self._id(tenant, scope)})
        return None if mark is None else int(mark["lastSeq"])

    async def raise_to(self, tenant: str, seq: int, scope: str = TENANT_SCOPE) -> None:
        mark_id = self._id(tenant, scope)
        try:
            await self.marks.update_one({"_id": mark_id}, {"$max": {"lastSeq": seq}}, upsert=True)
        except DuplicateKeyError:  # two first upserts at once: the mark exists now, so this one updates it
            await self.marks.update_one({"_id": mark_id}, {"$max": {"lastSeq": seq}})
