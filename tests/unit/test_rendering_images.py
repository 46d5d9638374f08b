"""Logos from PNG and JPEG bytes, as the PDF shows them: the image XObject's samples read back through
pypdf's own filters and its colour space, the alpha from its soft mask.

The PNG files are written here by a small encoder that applies every PNG filter type in turn, so the
pixels expected are worked out from the test's own samples, not by the imaging library under test.
"""

import base64
import io
import struct
import zlib
from typing import Any

import pytest
from PIL import Image, ImageFile
from pypdf.filters import decode_stream_data
from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject

from streams.rendering.images import Logo, UnsupportedImage, logo_image
from streams.rendering.writer import image_xobject

# A 3 x 5 grey progressive JPEG (written once with Pillow; kept as bytes so it stays the same file).
JPEG_GREY_3X5 = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeX"
    "BkeFxlZ2P/wgALCAAFAAMBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQAAAAF//8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQAB"
    "BQJ//8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQAGPwJ//8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPyF//9oACAEBAAAAEH//xAAU"
    "EAEAAAAAAAAAAAAAAAAAAAAA/9oACAEBAAE/EH//2Q=="
)
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _paeth(left: int, up: int, up_left: int) -> int:
    estimate = left + up - up_left
    near_left, near_up, near_up_left = abs(estimate - left), abs(estimate - up), abs(estimate - up_left)
    if near_left <= near_up and near_left <= near_up_left:
        return left
    return up if near_up <= near_up_left else up_left


def png(
    width: int,
    height: int,
    colour_type: int,
    bits: int,
    samples: bytes,
    *,
    palette: bytes = b"",
    transparency: bytes = b"",
    interlaced: bool = False,
) -> bytes:
    """A PNG of `samples` (rows packed as PNG packs them), row y filtered with filter type y % 5."""
    row_bytes = (width * CHANNELS[colour_type] * bits + 7) // 8
    pixel_bytes = max(1, CHANNELS[colour_type] * bits // 8)
    assert len(samples) == row_bytes * height
    filtered = bytearray()
    previous = bytes(row_bytes)
    for y in range(height):
        line = samples[y * row_bytes : (y + 1) * row_bytes]
        kind = y % 5
        filtered.append(kind)
        for i, value in enumerate(line):
            left = line[i - pixel_bytes] if i >= pixel_bytes else 0
            up_left = previous[i - pixel_bytes] if i >= pixel_bytes else 0
            predictor = (0, left, previous[i], (left + previous[i]) // 2, _paeth(left, previous[i], up_left))[kind]
            filtered.append((value - predictor) & 0xFF)
        previous = line

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressed = zlib.compress(bytes(filtered))
    header = struct.pack(">IIBBBBB", width, height, bits, colour_type, 0, 0, int(interlaced))
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"PLTE", palette) if palette else b"",
            chunk(b"tRNS", transparency) if transparency else b"",
            chunk(b"IDAT", compressed[:10]),  # image data split over two chunks, as encoders may
            chunk(b"IDAT", compressed[10:]),
            chunk(b"IEND", b""),
        ]
    )


def decoded(image: Any) -> bytes:
    """The image's samples as a PDF reader gets them: pypdf applies the stream's filters and predictor."""
    stream = StreamObject()
    stream._data = image["Bytes"]
    stream[NameObject("/Filter")] = NameObject(f"/{image['Filter']}")
    parameters = image.get("DecodeParms")
    if parameters:
        stream[NameObject("/DecodeParms")] = DictionaryObject(
            {NameObject(f"/{key}"): NumberObject(value) for key, value in parameters.items()}
        )
    return decode_stream_data(stream)


Pixel = tuple[int, int, int, int]  # red, green, blue, alpha


def shown(logo: Logo) -> list[Pixel]:
    """The logo's pixels as a PDF reader gets them: samples through the colour space, alpha from the soft mask."""
    image = image_xobject(logo)
    samples = decoded(image)
    space = image["ColorSpace"]
    if isinstance(space, list):  # [/Indexed /DeviceRGB last <palette>]: one palette index per sample
        assert space[:2] == ["Indexed", "DeviceRGB"] and image["BitsPerComponent"] == 8
        palette = bytes.fromhex(space[3])
        colours = [(palette[3 * i], palette[3 * i + 1], palette[3 * i + 2]) for i in samples]
    elif space == "DeviceGray":
        colours = [(value, value, value) for value in samples]
    else:
        assert space == "DeviceRGB"
        colours = [(samples[i], samples[i + 1], samples[i + 2]) for i in range(0, len(samples), 3)]
    alpha = decoded(image["SMask"]) if "SMask" in image else bytes([255] * len(colours))
    assert len(alpha) == len(colours) == logo.width * logo.height
    return [(*colour, opacity) for colour, opacity in zip(colours, alpha, strict=True)]


def high_bytes(samples: bytes, bits: int) -> bytes:
    """Samples in 8 bits, as a logo is embedded: 16-bit samples keep their high byte."""
    return samples[::2] if bits == 16 else samples


def pattern(count: int) -> bytes:
    return bytes((i * 37 + 11) % 256 for i in range(count))


def packed(indices: list[int], width: int, bits: int) -> bytes:
    """Palette indices packed as PNG packs them: `bits` each, high bits first, every row byte-aligned."""
    per_byte = 8 // bits
    result = bytearray()
    for start in range(0, len(indices), width):
        row = indices[start : start + width]
        row += [0] * (-len(row) % per_byte)
        for group in range(0, len(row), per_byte):
            result.append(sum(index << (8 - bits * (k + 1)) for k, index in enumerate(row[group : group + per_byte])))
    return bytes(result)


@pytest.mark.parametrize("bits", [8, 16])
def test_grey_png(bits: int) -> None:
    width, height = 7, 6
    samples = pattern(width * height * bits // 8)
    logo = logo_image(png(width, height, 0, bits, samples))
    assert (logo.width, logo.height) == (width, height)
    assert shown(logo) == [(value, value, value, 255) for value in high_bytes(samples, bits)]
    assert "SMask" not in image_xobject(logo), "no soft mask where nothing is transparent"


@pytest.mark.parametrize("bits", [8, 16])
def test_rgb_png(bits: int) -> None:
    width, height = 7, 6
    samples = high_bytes(pattern(width * height * 3 * bits // 8), bits)
    logo = logo_image(png(width, height, 2, bits, pattern(width * height * 3 * bits // 8)))
    assert shown(logo) == [(*samples[i : i + 3], 255) for i in range(0, len(samples), 3)]
    assert "SMask" not in image_xobject(logo)


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("colour_type", [4, 6])  # grey and alpha, RGB and alpha
def test_png_alpha_becomes_a_soft_mask(colour_type: int, bits: int) -> None:
    width, height = 5, 7
    channels = CHANNELS[colour_type]
    raw = pattern(width * height * channels * bits // 8)
    samples = high_bytes(raw, bits)
    pixels = [samples[p : p + channels] for p in range(0, len(samples), channels)]
    expected = [(*(pixel[:1] * 3 if channels == 2 else pixel[:3]), pixel[-1]) for pixel in pixels]
    logo = logo_image(png(width, height, colour_type, bits, raw))
    assert shown(logo) == expected
    assert image_xobject(logo)["SMask"]["ColorSpace"] == "DeviceGray"


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_png_palette_with_and_without_transparent_entries(bits: int) -> None:
    width, height = 9, 5  # 9 pixels: rows of sub-byte indices end mid-byte
    colours = 1 << bits
    palette = bytes(value for index in range(colours) for value in (index, 255 - index, 7))
    indices = [(x + y) % colours for y in range(height) for x in range(width)]
    samples = packed(indices, width, bits)

    opaque = logo_image(png(width, height, 3, bits, samples, palette=palette))
    assert shown(opaque) == [(index, 255 - index, 7, 255) for index in indices]
    assert image_xobject(opaque)["ColorSpace"][0] == "Indexed", "a palette image stays one byte per pixel"

    transparency = bytes([0, 128])  # index 0 transparent, index 1 half, the rest opaque
    masked = logo_image(png(width, height, 3, bits, samples, palette=palette, transparency=transparency))
    alpha = [(0, 128)[index] if index < 2 else 255 for index in indices]
    assert shown(masked) == [(index, 255 - index, 7, a) for index, a in zip(indices, alpha, strict=True)]


def test_png_transparent_colour() -> None:
    samples = bytes([1, 2, 3, 9, 9, 9, 1, 2, 3, 1, 2, 4])  # 2 x 2 pixels, two of them the transparent colour
    logo = logo_image(png(2, 2, 2, 8, samples, transparency=struct.pack(">HHH", 1, 2, 3)))
    assert [pixel[3] for pixel in shown(logo)] == [0, 255, 0, 255]


def test_jpeg_goes_in_as_it_is() -> None:
    logo = logo_image(JPEG_GREY_3X5)
    assert (logo.width, logo.height) == (3, 5)
    image = image_xobject(logo)
    assert image["Filter"] == "DCTDecode" and image["ColorSpace"] == "DeviceGray" and image["BitsPerComponent"] == 8
    assert image["Bytes"] == JPEG_GREY_3X5
    assert "Decode" not in image


def test_cmyk_jpeg_by_adobe_is_read_inverted() -> None:
    # Adobe's CMYK JPEGs (and Pillow's, with the Adobe marker) store every sample inverted.
    buffer = io.BytesIO()
    Image.new("CMYK", (4, 3), (0, 255, 0, 0)).save(buffer, format="JPEG")
    image = image_xobject(logo_image(buffer.getvalue()))
    assert image["Filter"] == "DCTDecode" and image["ColorSpace"] == "DeviceCMYK"
    assert image["Decode"] == [1, 0, 1, 0, 1, 0, 1, 0]
    assert image["Bytes"] == buffer.getvalue()


def gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (2, 2)).save(buffer, format="GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a",
        gif(),  # an image, but not one the settings accept
        b"\x89PNG\r\n\x1a\n",  # no chunks
        png(2, 2, 2, 8, pattern(12))[:40],  # cut short inside the image data
        png(2, 2, 2, 8, pattern(12), interlaced=True),  # said to be interlaced, but its data is not
        b"\xff\xd8\xff\xe0\x00\x10JFIF",  # a JPEG without a frame header
    ],
)
def test_unreadable_images_are_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedImage):
        logo_image(data)


def saved(image: Image.Image, kind: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kind)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("image", "kind", "embedded"),
    [
        (Image.new("RGBA", (4000, 2000), (20, 80, 160, 128)), "PNG", (468, 234)),
        (Image.new("P", (4000, 400), 3), "PNG", (709, 71)),  # a palette image is resampled in RGB
        (Image.new("I;16", (1000, 1000), 0x8000), "PNG", (234, 234)),
        (Image.new("RGB", (4000, 4000), (20, 80, 160)), "JPEG", (234, 234)),
    ],
)
def test_a_large_logo_stored_before_uploads_were_downscaled_is_embedded_downscaled(
    image: Image.Image, kind: str, embedded: tuple[int, int]
) -> None:
    # Up to 4000 x 4000 pixels were stored as they were sent; the PDF gets no more than the logo box at 300 dpi.
    logo = logo_image(saved(image, kind))
    assert (logo.width, logo.height) == embedded
    xobject = image_xobject(logo)
    assert (xobject["Width"], xobject["Height"]) == embedded
    assert xobject["Filter"] == ("DCTDecode" if kind == "JPEG" else "FlateDecode")
    if kind == "PNG":
        expected = (128, 128, 128, 255) if image.mode == "I;16" else image.convert("RGBA").getpixel((0, 0))
        assert isinstance(expected, tuple)
        for pixel in set(shown(logo)):  # the same colour and opacity, smaller (resampled with premultiplied alpha)
            assert all(abs(a - b) <= 1 for a, b in zip(pixel, expected, strict=True)), pixel


def bomb_png(width: int, height: int) -> bytes:
    """A PNG that declares `width` x `height` RGB pixels but holds the data of one short row: tiny as a
    file, gigabytes if a decoder allocated what its header says."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = zlib.compress(bytes(1 + 3 * min(width, 16)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", row) + chunk(b"IEND", b"")


def test_a_decompression_bomb_is_refused_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(image: object) -> None:
        raise AssertionError("the bomb's pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    with pytest.raises(UnsupportedImage, match="4000 x 4000"):
        logo_image(bomb_png(20000, 20000))
