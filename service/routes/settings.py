"""Tenant settings (extensions of the contract): one resource per concern, each read with GET and
replaced with PUT. A change applies to the invoices made after it; an invoice already made keeps the
settings it was made with."""

from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response

from invoicing.logo import MAX_LOGO_BYTES, InvalidLogo, check_logo
from schemas.settings import InvoiceSettings, LogoInfo, SellerSettings, SequenceSettings, TenantSettings
from service.auth import ManageScope, ReadScope
from service.dependencies import ApiResources, Resources, Tenant
from service.errors import ApiError
from service.routes.jobs import ERROR

router = APIRouter(tags=["Tenant Settings"])
SettingsT = TypeVar("SettingsT", bound=TenantSettings)
RESPONSES: dict[int | str, dict[str, Any]] = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 500: ERROR, 503: ERROR}
WHEN_MISSING = {
    InvoiceSettings: "AUTOMATIC jobs need them",
    SequenceSettings: "invoices are numbered INV-__num__ with 6 digits from 1 until they exist",
    SellerSettings: "invoices show a placeholder seller until they exist",
}


async def read_settings(res: ApiResources, tenant: str, model: type[SettingsT]) -> SettingsT:
    found = await res.tenant_settings.read(tenant, model)
    if found is None:
        raise ApiError(
            404,
            f"Tenant {tenant} has no {model.KIND} settings; {WHEN_MISSING[model]}",
            f"PUT /invoice/{tenant}/settings/{model.KIND}",
        )
    return found


async def write_settings(res: ApiResources, tenant: str, value: SettingsT) -> SettingsT:
    await res.tenant_settings.write(tenant, value)
    return value


@router.get(
    "/invoice/{tenant}/settings/invoice",
    dependencies=[ReadScope],
    operation_id="GET-invoice-retrieve-invoice-settings",
    summary="Returning the order query of AUTOMATIC jobs",
    response_model_exclude_none=True,
    responses=RESPONSES,
)
async def get_invoice_settings(tenant: Tenant, res: Resources) -> InvoiceSettings:
    return await read_settings(res, tenant, InvoiceSettings)


@router.put(
    "/invoice/{tenant}/settings/invoice",
    dependencies=[ManageScope],
    operation_id="PUT-invoice-update-invoice-settings",
    summary="Setting the order query of AUTOMATIC jobs",
    response_model_exclude_none=True,
    responses=RESPONSES,
)
async def put_invoice_settings(tenant: Tenant, body: InvoiceSettings, res: Resources) -> InvoiceSettings:
    return await write_settings(res, tenant, body)


@router.get(
    "/invoice/{tenant}/settings/sequence",
    dependencies=[ReadScope],
    operation_id="GET-invoice-retrieve-sequence-settings",
    summary="Returning the invoice number sequence",
    responses=RESPONSES,
)
async def get_sequence_settings(tenant: Tenant, res: Resources) -> SequenceSettings:
    return await read_settings(res, tenant, SequenceSettings)


@router.put(
    "/invoice/{tenant}/settings/sequence",
    dependencies=[ManageScope],
    operation_id="PUT-invoice-update-sequence-settings",
    summary="Setting the invoice number sequence",
    description="Numbers already given stay; the next invoice takes the value after the last one used, "
    "or startValue when that is higher.",
    responses=RESPONSES,
)
async def put_sequence_settings(tenant: Tenant, body: SequenceSettings, res: Resources) -> SequenceSettings:
    return await write_settings(res, tenant, body)


@router.get(
    "/invoice/{tenant}/settings/seller",
    dependencies=[ReadScope],
    operation_id="GET-invoice-retrieve-seller-settings",
    summary="Returning what invoices say about the seller",
    response_model_exclude_none=True,
    responses=RESPONSES,
)
async def get_seller_settings(tenant: Tenant, res: Resources) -> SellerSettings:
    return await read_settings(res, tenant, SellerSettings)


@router.put(
    "/invoice/{tenant}/settings/seller",
    dependencies=[ManageScope],
    operation_id="PUT-invoice-update-seller-settings",
    summary="Setting what invoices say about the seller, and their language and locale",
    response_model_exclude_none=True,
    responses=RESPONSES,
)
async def put_seller_settings(tenant: Tenant, body: SellerSettings, res: Resources) -> SellerSettings:
    return await write_settings(res, tenant, body)


IMAGE_BODY = {"schema": {"type": "string", "format": "binary"}}


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
    description=f"The body is the PNG or JPEG file itself (at most {MAX_LOGO_BYTES} bytes and 4000 x 4000 pixels). "
    "Its type is read from its content.",
    openapi_extra={"requestBody": {"required": True, "content": {"image/png": IMAGE_BODY, "image/jpeg": IMAGE_BODY}}},
    responses={**RESPONSES, 413: ERROR},
)
async def put_logo(tenant: Tenant, request: Request, res: Resources) -> LogoInfo:
    try:
        logo = check_logo(await read_limited_body(request, MAX_LOGO_BYTES))
    except InvalidLogo as error:
        raise ApiError(400, str(error)) from None
    return await res.tenant_settings.put_logo(tenant, logo)


@router.get(
    "/invoice/{tenant}/settings/logo",
    dependencies=[ReadScope],
    operation_id="GET-invoice-retrieve-logo",
    summary="Returning the logo",
    response_class=Response,
    responses={200: {"content": {"image/png": IMAGE_BODY, "image/jpeg": IMAGE_BODY}}, **RESPONSES},
)
async def get_logo(tenant: Tenant, res: Resources) -> Response:
    info = await res.tenant_settings.current_logo(tenant)
    content = None if info is None else await res.tenant_settings.logo_content(tenant, info.sha256)
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
async def delete_logo(tenant: Tenant, res: Resources) -> Response:
    if not await res.tenant_settings.delete_logo(tenant):
        raise ApiError(404, f"Tenant {tenant} has no logo")
    return Response(status_code=204)
