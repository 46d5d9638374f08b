"""In-memory fake of the tenant settings store."""

from datetime import datetime
from typing import Any, TypeVar

from infra.records import (
    ScheduledTenant,
    TenantSettingsSnapshot,
)
from invoicing.logo import Logo
from schemas.events import utc_now
from schemas.settings import InvoiceSettings, LogoInfo, TenantSettings

SettingsT = TypeVar("SettingsT", bound=TenantSettings)


# --- tenant settings -------------------------------------------------------------------------------


class MemoryTenantSettings:
    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {}
        self.logos: dict[str, bytes] = {}
        self.scheduled_since: dict[str, datetime] = {}

    async def read(self, tenant: str, model: type[SettingsT]) -> SettingsT | None:
        value = self.values.get(f"{tenant}:{model.KIND}")
        return None if value is None else model.model_validate(value)

    async def read_all(self, tenant: str) -> TenantSettingsSnapshot:
        prefix = f"{tenant}:"
        return TenantSettingsSnapshot(
            {key.removeprefix(prefix): value for key, value in self.values.items() if key.startswith(prefix)}
        )

    async def write(self, tenant: str, value: TenantSettings) -> None:
        self.values[f"{tenant}:{value.KIND}"] = value.model_dump(mode="json", exclude_none=True)
        if value.is_scheduled():
            self.scheduled_since[tenant] = utc_now()
        elif isinstance(value, InvoiceSettings):
            self.scheduled_since.pop(tenant, None)

    async def scheduled(self) -> list[ScheduledTenant]:
        return [
            ScheduledTenant(tenant, self.values[f"{tenant}:invoice"], since)
            for tenant, since in self.scheduled_since.items()
        ]

    async def put_logo(self, tenant: str, logo: Logo) -> LogoInfo:
        self.logos.setdefault(f"{tenant}:{logo.sha256}", logo.content)
        info = LogoInfo(
            mediaType=logo.media_type, width=logo.width, height=logo.height, size=len(logo.content), sha256=logo.sha256
        )
        self.values[f"{tenant}:logo"] = info.model_dump()
        return info

    async def current_logo(self, tenant: str) -> LogoInfo | None:
        value = self.values.get(f"{tenant}:logo")
        return None if value is None else LogoInfo.model_validate(value)

    async def delete_logo(self, tenant: str) -> bool:
        return self.values.pop(f"{tenant}:logo", None) is not None

    async def logo_content(self, tenant: str, sha256: str) -> bytes | None:
        return self.logos.get(f"{tenant}:{sha256}")
