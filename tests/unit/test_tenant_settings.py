"""Tenant settings as the API takes them, and what the worker makes of them."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from pydantic import ValidationError

from infra.mapping import order_selection, seller_details, sequence_schema
from invoicing.logo import MAX_LOGO_BYTES, InvalidLogo, check_logo
from invoicing.selection import OrderSelection, delivery_instant
from schemas.orders import OrderStatus
from schemas.settings import InvoiceSettings, SellerSettings, SequenceSettings

SELLER = {
    "legalName": "Müller & Söhne GmbH",
    "address": {"street": "Hauptstraße 1", "zipCode": "10115", "city": "Berlin", "country": "DE"},
    "vatId": "DE123456789",
}


def image_bytes(kind: str, size: tuple[int, int] = (40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue()


def test_invoice_settings_take_the_emporix_shape_and_numbers() -> None:
    values = {"threshold": 24, "status": "CREATED, CONFIRMED", "extendedOrderStatus": 70}
    settings = InvoiceSettings.model_validate(values)
    assert settings.model_dump() == {
        "threshold": "24",
        "status": "CREATED,CONFIRMED",
        "extendedOrderStatus": "70",
        "schedule": None,  # the extension of scheduled AUTOMATIC jobs: absent in Emporix's shape
        "timeZone": None,
    }
    selection = order_selection(settings)
    assert selection == OrderSelection(
        statuses=(OrderStatus.CREATED, OrderStatus.CONFIRMED), extended_statuses=("70",), threshold=timedelta(hours=24)
    )


def test_invoice_settings_without_extended_status_select_any() -> None:
    settings = InvoiceSettings.model_validate({"threshold": "1.5", "status": "SHIPPED"})
    assert order_selection(settings).extended_statuses == ()
    assert order_selection(settings).threshold == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"threshold": "soon", "status": "CREATED"}, "must be a number of hours"),
        ({"threshold": -1, "status": "CREATED"}, "between 0 and"),
        ({"threshold": True, "status": "CREATED"}, "must be a number of hours"),
        ({"threshold": "24", "status": "CREATED,SHIPPPED"}, "unknown order status SHIPPPED"),
        ({"threshold": "24", "status": " , "}, "at least one order status"),
        ({"status": "CREATED"}, "Field required"),
        ({"threshold": "24", "status": "CREATED", "extra": 1}, "Extra inputs are not permitted"),
    ],
)
def test_invoice_settings_refuse_bad_values(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        InvoiceSettings.model_validate(values)


def test_sequence_settings_format_numbers_like_emporix() -> None:
    schema = sequence_schema(
        SequenceSettings(preText="INV__num__", numberOfDigits=4, startValue=1000, maxValue=999999999)
    )
    assert [schema.format(schema.next_value(last)) for last in (None, 1000)] == ["INV1000", "INV1001"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"preText": "INV-", "numberOfDigits": 4, "startValue": 1, "maxValue": 9}, "placeholder __num__"),
        ({"preText": "__num__-__num__", "numberOfDigits": 4, "startValue": 1, "maxValue": 9}, "exactly once"),
        ({"preText": "INV__num__", "numberOfDigits": 0, "startValue": 1, "maxValue": 9}, "greater than or equal to 1"),
        ({"preText": "INV__num__", "numberOfDigits": 4, "startValue": 10, "maxValue": 9}, "must not be below"),
        ({"preText": "INV__num__", "numberOfDigits": 4, "startValue": -1, "maxValue": 9}, "greater than or equal"),
        ({"preText": "IN\nV__num__", "numberOfDigits": 4, "startValue": 1, "maxValue": 9}, "control characters"),
    ],
)
def test_sequence_settings_refuse_bad_values(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SequenceSettings.model_validate(values)


def test_seller_settings_become_the_invoice_seller() -> None:
    settings = SellerSettings.model_validate(
        {
            **SELLER,
            "bank": {"accountHolder": "Müller & Söhne", "iban": "de89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX"},
            "language": "de",
            "locale": "de-DE",
            "paymentTermsDays": 30,
        }
    )
    seller = seller_details(settings)
    assert seller.legal_name == "Müller & Söhne GmbH"
    assert seller.address.city == "Berlin"
    assert seller.bank is not None and seller.bank.iban == "DE89370400440532013000"
    assert (seller.language, seller.locale, seller.payment_terms_days) == ("de", "de_DE", 30)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vatId": None}, "vatId or taxNumber"),
        ({"bank": {"accountHolder": "X", "iban": "DE89370400440532013001"}}, "not a valid IBAN"),
        ({"locale": "xx_YY"}, "not a known locale"),
        ({"language": "xx"}, "not a language with a catalog"),
        ({"address": {**SELLER["address"], "country": "Germany"}}, "should match pattern"),  # type: ignore[dict-item]
        ({"paymentTermsDays": 400}, "less than or equal to 365"),
        ({"legalName": "  "}, "at least 1 character"),
    ],
)
def test_seller_settings_refuse_bad_values(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SellerSettings.model_validate({**SELLER, **change})


def test_delivery_counts_from_the_first_instant_of_a_bare_date() -> None:
    assert delivery_instant(date(2026, 5, 1)) == datetime(2026, 5, 1, tzinfo=UTC)
    assert delivery_instant(datetime(2026, 5, 1, 12, tzinfo=UTC)) == datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert delivery_instant(None) is None


def test_selection_cutoff_is_the_request_time_minus_the_threshold() -> None:
    selection = OrderSelection(statuses=(OrderStatus.CREATED,), extended_statuses=(), threshold=timedelta(hours=24))
    requested = datetime(2026, 5, 2, 8, 30, tzinfo=UTC)
    assert selection.delivered_before(requested) == datetime(2026, 5, 1, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(("kind", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_logo_type_is_read_from_the_content(kind: str, media_type: str) -> None:
    logo = check_logo(image_bytes(kind))
    assert (logo.media_type, logo.width, logo.height) == (media_type, 40, 20)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"%PDF-1.7 not an image", "not a readable PNG or JPEG"),
        (image_bytes("GIF"), "only PNG and JPEG"),
        (image_bytes("PNG")[:60], "not a readable PNG or JPEG"),
        (image_bytes("PNG", (4001, 10)), "at most 4000 x 4000"),
        (b"\x89PNG" + b"\0" * MAX_LOGO_BYTES, "bytes; at most"),
    ],
)
def test_logo_that_is_not_a_usable_image_is_refused(content: bytes, message: str) -> None:
    with pytest.raises(InvalidLogo, match=message):
        check_logo(content)
