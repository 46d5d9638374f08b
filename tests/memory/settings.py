"""In-memory fake of the tenant settings store."""

from datetime import datetime
from typing import Any, TypeVar

from infra.records import (
    LOGO_KIND,
    ScheduledTenant,
    TenantSettingsSnapshot,
)
from invoicing.logo import Logo
from invoicing.sites import settings_key
from schemas.events import utc_now
from schemas.settings import ALL_SETTINGS, InvoiceSettings, LogoInfo, TenantSettings

SettingsT = TypeVar("SettingsT", bound=TenantSettings)
# Every kind of settings document (the models' KIND and the logo's), to read a tenant's or a site's by key.
KINDS = (*(model.KIND for model in ALL_SETTINGS), LOGO_KIND)


# --- tenant settings -------------------------------------------------------------------------------


class MemoryTenantSettings:
    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}
        self.logos: dict[str, bytes] = {}
        self.scheduled_since: dict[str, datetime] = {}

    async def read(self, tenant: str, model: type[SettingsT], site: str | None = None) -> SettingsT | None:
        value = self.values.get(settings_key(tenant, site, model.KIND))
        return None if value is None else model.model_validate(value)

    async def read_all(self, tenant: str, site: str | None = None) -> TenantSettingsSnapshot:
        of_site = {} if site is None else self._layer(tenant, site)
        return TenantSettingsSnapshot(self._layer(tenant, None), of_site, site)

    def _layer(self, tenant: str, site: str | None) -> dict[str, dict[str, Any]]:
        keys = {kind: settings_key(tenant, site, kind) for kind in KINDS}
        return {kind: self.values[key] for kind, key in keys.items() if key in self.values}

    async def write(self, tenant: str, value: TenantSettings, site: str | None = None) -> None:
        self.values[settings_key(tenant, site, value.KIND)] = value.model_dump(mode="json", exclude_none=True)
        if site is not None:
            return
        if value.is_scheduled():
            self.scheduled_since[tenant] = utc_now()
        elif isinstance(value, InvoiceSettings):
            self.scheduled_since.pop(tenant, None)

    async def scheduled(self) -> list[ScheduledTenant]:
        return [
            ScheduledTenant(tenant, self.values[f"{tenant}:invoice"], since)
            for tenant, since in self.scheduled_since.items()
        ]

    async def put_logo(self, tenant: str, logo: Logo, site: str | None = None) -> LogoInfo:
        self.logos.setdefault(f"{tenant}:{logo.sha256}", logo.content)
        info = LogoInfo(
            mediaType=logo.media_type, width=logo.width, height=logo.height, size=len(logo.content), sha256=logo.sha256
        )
        self.values[settings_key(tenant, site, LOGO_KIND)] = info.model_dump()
        return info

    async def current_logo(self, tenant: str, site: str | None = None) -> LogoInfo | None:
        value = self.values.get(settings_key(tenant, site, LOGO_KIND))
        return None if value is None else LogoInfo.model_validate(value)

    async def delete_logo(self, tenant: str, site: str | None = None) -> bool:
        return self.values.pop(settings_key(tenant, site, LOGO_KIND), None) is not None

    async def logo_content(self, tenant: str, sha256: str) -> bytes | None:
        return self.logos.get(f"{tenant}:{sha256}")
