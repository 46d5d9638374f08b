"""Tenant settings in MongoDB: one document per tenant and concern, one per site and concern for a site
with settings of its own (the same `tenant` field and a `site` field, `_id` `{tenant}:{site}:{kind}`), and
the logos they point to.

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
from invoicing.sites import settings_key
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

    async def read(self, tenant: str, model: type[SettingsT], site: str | None = None) -> SettingsT | None:
        """The tenant's settings of this kind, or the site's own (None when the site has none)."""
        doc = await self.settings.find_one({"_id": settings_key(tenant, site, model.KIND)})
        return None if doc is None else model.model_validate(doc["value"])

    async def read_all(self, tenant: str, site: str | None = None) -> TenantSettingsSnapshot:
        """All of the tenant's settings and the site's own in one query (the `tenant` index serves it: the
        sites' documents carry the tenant too); other sites' documents are left out by the store (`$in`
        with null takes the tenant's own, which have no `site`), and here again."""
        query = {"tenant": tenant, "site": {"$in": [None] if site is None else [None, site]}}
        docs = await self.settings.find(query, {"kind": 1, "value": 1, "site": 1}).to_list()
        own = {doc["kind"]: doc["value"] for doc in docs if doc.get("site") is None}
        of_site = {doc["kind"]: doc["value"] for doc in docs if site is not None and doc.get("site") == site}
        return TenantSettingsSnapshot(own, of_site, site)

    async def write(self, tenant: str, value: TenantSettings, site: str | None = None) -> None:
        # A site's invoice settings are never scheduled: schedules are the tenant's (the API refuses them).
        scheduled = value.is_scheduled() and site is None
        await self._put(tenant, value.KIND, value.model_dump(mode="json", exclude_none=True), scheduled, site)

    async def _put(
        self, tenant: str, kind: str, value: Document, scheduled: bool = False, site: str | None = None
    ) -> None:
        doc: Document = {"tenant": tenant, "kind": kind, "value": value, "scheduled": scheduled, "updatedAt": utc_now()}
        if site is not None:
            doc["site"] = site
        await self.settings.replace_one({"_id": settings_key(tenant, site, kind)}, doc, upsert=True)

    async def scheduled(self) -> list[ScheduledTenant]:
        """The tenants whose invoice settings carry a schedule: an equality query on an indexed field."""
        docs = await self.settings.find({"scheduled": True}).to_list()
        return [
            ScheduledTenant(doc["tenant"], doc["value"], doc["updatedAt"])
            for doc in docs
            if doc["kind"] == InvoiceSettings.KIND
        ]

    async def put_logo(self, tenant: str, logo: Logo, site: str | None = None) -> LogoInfo:
        logo_id = f"{tenant}:{logo.sha256}"  # by content: the tenant's and its sites' logos share it
        await self.logos.update_one(
            {"_id": logo_id},
            {"$setOnInsert": {"tenant": tenant, "content": Binary(logo.content), "createdAt": utc_now()}},
            upsert=True,
        )
        info = LogoInfo(
            mediaType=logo.media_type, width=logo.width, height=logo.height, size=len(logo.content), sha256=logo.sha256
        )
        await self._put(tenant, LOGO_KIND, info.model_dump(), site=site)
        return info

    async def current_logo(self, tenant: str, site: str | None = None) -> LogoInfo | None:
        doc = await self.settings.find_one({"_id": settings_key(tenant, site, LOGO_KIND)})
        return None if doc is None else LogoInfo.model_validate(doc["value"])

    async def delete_logo(self, tenant: str, site: str | None = None) -> bool:
        """The next invoices have no logo (a site's: the tenant's logo again); the content stays for the
        invoices that show it."""
        result = await self.settings.delete_one({"_id": settings_key(tenant, site, LOGO_KIND)})
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
