"""Tenant settings (extensions of the contract): one resource per concern, each read with GET and
replaced with PUT. A change applies to the invoices made after it; an invoice already made keeps the
settings it was made with."""

from typing import Any

import anyio
from fastapi import APIRouter, Request, Response

from invoicing.logo import MAX_LOGO_BYTES, MAX_LOGO_SIDE, STORED_LOGO_SIZE, InvalidLogo, check_logo
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


def add_settings_resource(model: type[TenantSettings], what: str, missing: str, put_note: str = "") -> None:
    """GET and PUT /invoice/{tenant}/settings/{model.KIND}: the settings resources differ only in
    their model and their words."""
    path = f"/invoice/{{tenant}}/settings/{model.KIND}"

    async def read(tenant: Tenant, store: SettingsStore) -> Any:
        found = await store.read(tenant, model)
        if found is None:
            raise ApiError(404, f"Tenant {tenant} has no {model.KIND} settings; {missing}", f"PUT {path}")
        return found

    async def replace(tenant: Tenant, body: Any, store: SettingsStore) -> Any:
        await store.write(tenant, body)
        return body

    # FastAPI takes the body's model (validation, 400s, OpenAPI schema) from the parameter's annotation.
    replace.__annotations__["body"] = model
    common: dict[str, Any] = {"response_model": model, "response_model_exclude_none": True, "responses": RESPONSES}
    router.add_api_route(
        path,
        read,
        methods=["GET"],
        dependencies=[ReadScope],
        operation_id=f"GET-invoice-retrieve-{model.KIND}-settings",
        summary=f"Returning {what}",
        **common,
    )
    router.add_api_route(
        path,
        replace,
        methods=["PUT"],
        dependencies=[ManageScope],
        operation_id=f"PUT-invoice-update-{model.KIND}-settings",
        summary=f"Setting {what}",
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


@router.put(
    "/invoice/{tenant}/settings/logo",
    dependencies=[ManageScope],
    operation_id="PUT-invoice-update-logo",
    summary="Setting the logo in the invoice header",
    description=f"The body is the PNG or JPEG file itself (at most {MAX_LOGO_BYTES} bytes and "
    f"{MAX_LOGO_SIDE} x {MAX_LOGO_SIDE} pixels). Its type is read from its content. It is stored as a file of "
    f"that type without metadata, downscaled to fit {STORED_LOGO_SIZE[0]} x {STORED_LOGO_SIZE[1]} pixels "
    "(the invoice's logo box at 300 dpi) when it is larger; the answer describes the stored image.",
    openapi_extra={"requestBody": {"required": True, "content": {"image/png": IMAGE_BODY, "image/jpeg": IMAGE_BODY}}},
    responses={**RESPONSES, 413: ERROR},
)
async def put_logo(tenant: Tenant, request: Request, store: SettingsStore) -> LogoInfo:
    try:
        content = await read_limited_body(request, MAX_LOGO_BYTES)
        logo = await anyio.to_thread.run_sync(check_logo, content, limiter=LOGO_CHECKS)
    except InvalidLogo as error:
        raise ApiError(400, str(error)) from None
    return await store.put_logo(tenant, logo)


@router.get(
    "/invoice/{tenant}/settings/logo",
    dependencies=[ReadScope],
    operation_id="GET-invoice-retrieve-logo",
    summary="Returning the logo",
    response_class=Response,
    responses={200: {"content": {"image/png": IMAGE_BODY, "image/jpeg": IMAGE_BODY}}, **RESPONSES},
)
async def get_logo(tenant: Tenant, store: SettingsStore) -> Response:
    info = await store.current_logo(tenant)
    content = None if info is None else await store.logo_content(tenant, info.sha256)
    if info is None or content is None:
        raise ApiError(404, f"Tenant {tenant} has no logo")
    return Response(content, media_type=info.mediaType, headers={"ETag": f'"{info.sha256}"'})


@router.delete(
    "/invoice/{tenant}/settings/logo",
    dependencies=[ManageScope],
    operation_id="DELETE-invoice-remove-logo",
    summary="Removing the logo from invoices made from now on",
    status_code=204,
    response_class=Response,
    responses=RESPONSES,
)
async def delete_logo(tenant: Tenant, store: SettingsStore) -> Response:
    if not await store.delete_logo(tenant):
        raise ApiError(404, f"Tenant {tenant} has no logo")
    return Response(status_code=204)
