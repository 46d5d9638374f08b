"""Tenant settings (extensions of the contract): one resource per concern, each read with GET and
replaced with PUT. A change applies to the invoices made after it; an invoice already made keeps the
settings it was made with.

Each resource is also a site's (several issuers per tenant, invoicing/sites.py): the same bodies, scopes
and errors under /invoice/{tenant}/sites/{siteCode}/settings/..., made by the same functions; an order
of the site takes the site's own value of each concern it has, the tenant's of the others."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Request, Response

from invoicing.logo import MAX_LOGO_BYTES, MAX_LOGO_SIDE, STORED_LOGO_SIZE, InvalidLogo, check_logo
from invoicing.sites import SITE_CODE_MAX_LENGTH, SITE_CODE_PATTERN
from schemas.settings import (
    CreditNoteSequenceSettings,
    EInvoiceSettings,
    InvoiceSettings,
    LogoInfo,
    ReminderSettings,
    SellerSettings,
    SequenceSettings,
    TenantSettings,
)
from service.auth import ManageScope, ReadScope
from service.dependencies import SettingsStore, Tenant
from service.errors import ERROR, ApiError, error_responses

router = APIRouter(tags=["Tenant Settings"])
RESPONSES = error_responses(400, 401, 403, 404, 500, 503)


SiteCode = Annotated[
    str,
    Path(
        pattern=SITE_CODE_PATTERN,
        min_length=1,
        max_length=SITE_CODE_MAX_LENGTH,
        description="The site (the order's `siteCode`) whose own settings these are: letters, digits, "
        "'_', '-' and '.', starting with a letter or digit.",
        examples=["fr"],
    ),
]


@dataclass(frozen=True)
class SettingsOwner:
    """Whose settings a path names: the tenant's, or one of its sites' own."""

    tenant: str
    site: str | None = None

    def __str__(self) -> str:
        return f"Tenant {self.tenant}" if self.site is None else f"Site {self.site} of tenant {self.tenant}"


def tenant_owner(tenant: Tenant) -> SettingsOwner:
    return SettingsOwner(tenant)


def site_owner(tenant: Tenant, siteCode: SiteCode) -> SettingsOwner:
    return SettingsOwner(tenant, siteCode)


@dataclass(frozen=True)
class OwnerPaths:
    """The settings paths of one kind of owner: where they are, who the path names, how their operation
    IDs and summaries read."""

    base: str
    owner: Callable[..., SettingsOwner]
    id_part: str  # in the operation IDs: "" for the tenant's (the IDs as they were), "site-" for a site's
    whose: str


OWNERS = (
    OwnerPaths("/invoice/{tenant}/settings", tenant_owner, "", ""),
    OwnerPaths("/invoice/{tenant}/sites/{siteCode}/settings", site_owner, "site-", " of a site"),
)


def add_settings_resource(model: type[TenantSettings], what: str, missing: str, put_note: str = "") -> None:
    """GET and PUT .../settings/{model.KIND}, the tenant's and a site's: the settings resources differ only
    in their model and their words."""
    for paths in OWNERS:
        add_owner_settings_resource(paths, model, what, missing, put_note)


def add_owner_settings_resource(
    paths: OwnerPaths, model: type[TenantSettings], what: str, missing: str, put_note: str
) -> None:
    path = f"{paths.base}/{model.KIND}"
    if paths.owner is site_owner:
        missing = "the tenant's apply to the site's orders"

    async def read(owner: Any, store: SettingsStore) -> Any:
        found = await store.read(owner.tenant, model, owner.site)
        if found is None:
            raise ApiError(404, f"{owner} has no {model.KIND} settings; {missing}", f"PUT {path}")
        return found

    async def replace(owner: Any, body: Any, store: SettingsStore) -> Any:
        if owner.site is not None and body.is_scheduled():
            raise ApiError(400, "schedule: scheduled AUTOMATIC jobs are the tenant's; set it in the tenant's settings")
        await store.write(owner.tenant, body, owner.site)
        return body

    # FastAPI takes the body's model (validation, 400s, OpenAPI schema) and the owner's dependency from the
    # parameters' annotations.
    for operation in (read, replace):
        operation.__annotations__["owner"] = Annotated[SettingsOwner, Depends(paths.owner)]
    replace.__annotations__["body"] = model
    common: dict[str, Any] = {"response_model": model, "response_model_exclude_none": True, "responses": RESPONSES}
    router.add_api_route(
        path,
        read,
        methods=["GET"],
        dependencies=[ReadScope],
        operation_id=f"GET-invoice-retrieve-{paths.id_part}{model.KIND}-settings",
        summary=f"Returning {what}{paths.whose}",
        **common,
    )
    router.add_api_route(
        path,
        replace,
        methods=["PUT"],
        dependencies=[ManageScope],
        operation_id=f"PUT-invoice-update-{paths.id_part}{model.KIND}-settings",
        summary=f"Setting {what}{paths.whose}",
        description=put_note or None,
        **common,
    )


add_settings_resource(InvoiceSettings, "the order query of AUTOMATIC jobs", "AUTOMATIC jobs need them")
add_settings_resource(
    SequenceSettings,
    "the invoice number sequence",
    "invoices are numbered INV-__num__ with 6 digits from 1 until they exist",
    "Numbers already given stay; the next invoice takes the value after the last one used, "
    "or startValue when that is higher.",
)
add_settings_resource(
    CreditNoteSequenceSettings,
    "the credit-note number sequence",
    "credit notes are numbered CN-__num__ with 6 digits from 1 until they exist",
    "A sequence of its own, gap-free and unique like the invoices'. Numbers already given stay.",
)
add_settings_resource(
    SellerSettings,
    "what invoices say about the seller, and their language and locale",
    "invoices show a placeholder seller until they exist",
)
add_settings_resource(
    EInvoiceSettings,
    "what e-invoices need beyond the seller settings (profile, electronic address, contact, buyer reference)",
    "invoices embed Factur-X EN 16931 XML with the order ID as buyer reference until they exist",
)
add_settings_resource(
    ReminderSettings,
    "the reminder levels of overdue invoices",
    "no reminders are sent until they exist (overdue invoices are still announced)",
    "Each level is sent once per invoice, daysAfterDue days after its due date, while it is neither paid "
    "nor credited; an invoice that missed several levels (e.g. levels added later) gets the latest one due.",
)


IMAGE_BODY = {"schema": {"type": "string", "format": "binary"}}
# Checking a logo decodes it in a thread, off the event loop; two at a time at most, as each may take
# ~100 MB while it is decoded (4000 x 4000 pixels) and uploading a logo is rare.
LOGO_CHECKS = anyio.CapacityLimiter(2)


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes (never read whole first)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, f"The logo is larger than {limit} bytes")
    return bytes(body)


def add_logo_resource(paths: OwnerPaths) -> None:
    """PUT, GET and DELETE .../settings/logo, the tenant's and a site's."""
    path = f"{paths.base}/logo"
    Owner = Annotated[SettingsOwner, Depends(paths.owner)]

    async def put_logo(owner: Owner, request: Request, store: SettingsStore) -> LogoInfo:
        try:
            content = await read_limited_body(request, MAX_LOGO_BYTES)
            logo = await anyio.to_thread.run_sync(check_logo, content, limiter=LOGO_CHECKS)
        except InvalidLogo as error:
            raise ApiError(400, str(error)) from None
        return await store.put_logo(owner.tenant, logo, owner.site)

    async def get_logo(owner: Owner, store: SettingsStore) -> Response:
        info = await store.current_logo(owner.tenant, owner.site)
        content = None if info is None else await store.logo_content(owner.tenant, info.sha256)
        if info is None or content is None:
            raise ApiError(404, f"{owner} has no logo")
        return Response(content, media_type=info.mediaType, headers={"ETag": f'"{info.sha256}"'})

    async def delete_logo(owner: Owner, store: SettingsStore) -> Response:
        if not await store.delete_logo(owner.tenant, owner.site):
            raise ApiError(404, f"{owner} has no logo")
        return Response(status_code=204)

    router.add_api_route(
        path,
        put_logo,
        methods=["PUT"],
        dependencies=[ManageScope],
        operation_id=f"PUT-invoice-update-{paths.id_part}logo",
        summary=f"Setting the logo in the invoice header{paths.whose}",
        description=f"The body is the PNG or JPEG file itself (at most {MAX_LOGO_BYTES} bytes and "
        f"{MAX_LOGO_SIDE} x {MAX_LOGO_SIDE} pixels). Its type is read from its content. It is stored as a file of "
        f"that type without metadata, downscaled to fit {STORED_LOGO_SIZE[0]} x {STORED_LOGO_SIZE[1]} pixels "
        "(the invoice's logo box at 300 dpi) when it is larger; the answer describes the stored image.",
        openapi_extra={
            "requestBody": {"required": True, "content": {"image/png": IMAGE_BODY, "image/jpeg": IMAGE_BODY}}
        },
        responses={**RESPONSES, 413: ERROR},
    )
    router.add_api_route(
        path,
        get_logo,
        methods=["GET"],
        dependencies=[ReadScope],
        operation_id=f"GET-invoice-retrieve-{paths.id_part}logo",
        summary=f"Returning the logo{paths.whose}",
        response_class=Response,
        responses={200: {"content": {"image/png": IMAGE_BODY, "image/jpeg": IMAGE_BODY}}, **RESPONSES},
    )
    router.add_api_route(
        path,
        delete_logo,
        methods=["DELETE"],
        dependencies=[ManageScope],
        operation_id=f"DELETE-invoice-remove-{paths.id_part}logo",
        summary=f"Removing the logo{paths.whose} from invoices made from now on",
        status_code=204,
        response_class=Response,
        responses=RESPONSES,
    )


for owner_paths in OWNERS:
    add_logo_resource(owner_paths)
