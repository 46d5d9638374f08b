"""Tenant settings in MongoDB: one document per tenant and concern, and the logos they point to.

Logos are stored by content (tenant and SHA-256) and never deleted or changed: an invoice keeps the id
of the logo it was made with, so replacing or deleting the tenant's logo never changes an invoice
already made.
"""

from collections import OrderedDict
from typing import TypeVar

from bson import Binary
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from infra.db import Document
from infra.records import LOGO_KIND, ScheduledTenant, TenantSettingsSnapshot
from invoicing.logo import Logo
from schemas.events import utc_now
from schemas.settings import InvoiceSettings, LogoInfo, TenantSettings

SettingsT = TypeVar("SettingsT", bound=TenantSettings)
LOGO_CACHE_SIZE = 32


class TenantSettingsRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.settings: AsyncCollection[Document] = db.tenant_settings
        self.logos: AsyncCollection[Document] = db.logos
        # Logos never change under their id, so a worker may keep the ones it uses in memory.
        self._logo_cache: OrderedDict[str, bytes] = OrderedDict()

    async def read(self, tenant: str, model: type[SettingsT]) -> SettingsT | None:
        doc = await self.settings.find_one({"_id": f"{tenant}:{model.KIND}"})
        return None if doc is None else model.model_validate(doc["value"])

    async def read_all(self, tenant: str) -> TenantSettingsSnapshot:
        """All of the tenant's settings in one query (the `tenant` index serves it)."""
        docs = await self.settings.find({"tenant": tenant}, {"kind": 1, "value": 1}).to_list()
        return TenantSettingsSnapshot({doc["kind"]: doc["value"] for doc in docs})

    async def write(self, tenant: str, value: TenantSettings) -> None:
        await self._put(tenant, value.KIND, value.model_dump(mode="json", exclude_none=True), value.is_scheduled())

    async def _put(self, tenant: str, kind: str, value: Document, scheduled: bool = False) -> None:
        await self.settings.replace_one(
            {"_id": f"{tenant}:{kind}"},
            {"tenant": tenant, "kind": kind, "value": value, "scheduled": scheduled, "updatedAt": utc_now()},
            upsert=True,
        )

    async def scheduled(self) -> list[ScheduledTenant]:
        """The tenants whose invoice settings carry a schedule: an equality query on an indexed field."""
        docs = await self.settings.find({"scheduled": True}).to_list()
        return [
            ScheduledTenant(doc["tenant"], doc["value"], doc["updatedAt"])
            for doc in docs
            if doc["kind"] == InvoiceSettings.KIND
        ]

    async def put_logo(self, tenant: str, logo: Logo) -> LogoInfo:
        logo_id = f"{tenant}:{logo.sha256}"
        await self.logos.update_one(
            {"_id": logo_id},
            {"$setOnInsert": {"tenant": tenant, "content": Binary(logo.content), "createdAt": utc_now()}},
            upsert=True,
        )
        info = LogoInfo(
            mediaType=logo.media_type, width=logo.width, height=logo.height, size=len(logo.content), sha256=logo.sha256
        )
        await self._put(tenant, LOGO_KIND, info.model_dump())
        return info

    async def current_logo(self, tenant: str) -> LogoInfo | None:
        doc = await self.settings.find_one({"_id": f"{tenant}:{LOGO_KIND}"})
        return None if doc is None else LogoInfo.model_validate(doc["value"])

    async def delete_logo(self, tenant: str) -> bool:
        """The tenant's next invoices have no logo; the content stays for the invoices that show it."""
        result = await self.settings.delete_one({"_id": f"{tenant}:{LOGO_KIND}"})
        return result.deleted_count == 1

    async def logo_content(self, tenant: str, sha256: str) -> bytes | None:
        logo_id = f"{tenant}:{sha256}"
        if logo_id in self._logo_cache:
            self._logo_cache.move_to_end(logo_id)
            return self._logo_cache[logo_id]
        doc = await self.logos.find_one({"_id": logo_id})
        if doc is None:
            return None
        content = bytes(doc["content"])
        self._logo_cache[logo_id] = content
        if len(self._logo_cache) > LOGO_CACHE_SIZE:
            self._logo_cache.popitem(last=False)
        return content
