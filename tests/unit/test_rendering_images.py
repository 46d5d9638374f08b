"""Logos from PNG and JPEG bytes, read back through pypdf's own filters (FlateDecode with PNG predictors).

The PNG files are written here by a small encoder that applies every PNG filter type in turn, so the
renderer's unfiltering is checked against data it did not produce.
"""

import base64
import struct
import zlib
from typing import Any

import pytest
from pypdf.filters import decode_stream_data
from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject

from streams.rendering.images import UnsupportedImage, logo_image

# A 3 x 5 grey progressive JPEG (written once with Pillow; kept here so the tests need no imaging library).
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


def _idat(data: bytes) -> bytes:
    """The compressed image data of a PNG: its IDAT chunks joined."""
    offset, joined = 8, b""
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"IDAT":
            joined += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    return joined


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


@pytest.mark.parametrize(("colour_type", "colour_space"), [(0, "DeviceGray"), (2, "DeviceRGB")])
@pytest.mark.parametrize("bits", [8, 16])
def test_png_without_transparency_goes_in_as_it_is(colour_type: int, colour_space: str, bits: int) -> None:
    width, height = 7, 6
    samples = pattern(width * CHANNELS[colour_type] * bits // 8 * height)
    logo = logo_image(png(width, height, colour_type, bits, samples))
    assert (logo.width, logo.height) == (width, height)
    image = logo.xobject
    assert image["Subtype"] == "Image" and image["ColorSpace"] == colour_space and image["BitsPerComponent"] == bits
    assert image["DecodeParms"]["Predictor"] == 15
    assert decoded(image) == samples
    assert "SMask" not in image


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize(("colour_type", "colour_space"), [(4, "DeviceGray"), (6, "DeviceRGB")])
def test_png_alpha_becomes_a_soft_mask(colour_type: int, colour_space: str, bits: int) -> None:
    width, height = 5, 7
    sample = bits // 8
    pixel = CHANNELS[colour_type] * sample
    samples = pattern(width * height * pixel)
    image = logo_image(png(width, height, colour_type, bits, samples)).xobject
    colour = b"".join(samples[p : p + pixel - sample] for p in range(0, len(samples), pixel))
    alpha = b"".join(samples[p + pixel - sample : p + pixel] for p in range(0, len(samples), pixel))
    assert image["ColorSpace"] == colour_space and image["BitsPerComponent"] == bits
    assert decoded(image) == colour
    mask = image["SMask"]
    assert mask["ColorSpace"] == "DeviceGray" and mask["BitsPerComponent"] == bits
    assert decoded(mask) == alpha


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_png_palette_with_and_without_transparent_entries(bits: int) -> None:
    width, height = 9, 5  # 9 pixels: rows of sub-byte indices end mid-byte
    colours = 1 << bits
    palette = bytes(value for index in range(colours) for value in (index, 255 - index, 7))
    indices = [(x + y) % colours for y in range(height) for x in range(width)]
    samples = packed(indices, width, bits)

    data = png(width, height, 3, bits, bytes(samples), palette=palette)
    opaque = logo_image(data).xobject
    assert opaque["ColorSpace"][:3] == ["Indexed", "DeviceRGB", colours - 1]
    assert bytes.fromhex(opaque["ColorSpace"][3]) == palette
    assert opaque["DecodeParms"] == {"Predictor": 15, "Colors": 1, "BitsPerComponent": bits, "Columns": width}
    if bits == 8:
        assert decoded(opaque) == bytes(samples)
    else:  # pypdf's PNG predictor misreads rows of packed samples; pdftoppm's reading is checked below
        assert opaque["Bytes"] == _idat(data)
    assert "SMask" not in opaque

    transparency = bytes([0, 128])  # index 0 transparent, index 1 half, the rest opaque
    masked = logo_image(png(width, height, 3, bits, bytes(samples), palette=palette, transparency=transparency))
    assert decoded(masked.xobject) == bytes(samples)
    expected_alpha = bytes((0, 128)[index] if index < 2 else 255 for index in indices)
    assert decoded(masked.xobject["SMask"]) == expected_alpha


def test_png_transparent_colour_becomes_a_colour_key_mask() -> None:
    samples = pattern(4 * 3 * 2)
    image = logo_image(png(4, 2, 2, 8, samples, transparency=struct.pack(">HHH", 1, 2, 3))).xobject
    assert image["Mask"] == [1, 1, 2, 2, 3, 3]


def test_jpeg_goes_in_as_it_is() -> None:
    logo = logo_image(JPEG_GREY_3X5)
    assert (logo.width, logo.height) == (3, 5)
    image = logo.xobject
    assert image["Filter"] == "DCTDecode" and image["ColorSpace"] == "DeviceGray"
    assert image["Bytes"] == JPEG_GREY_3X5


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a",
        b"\x89PNG\r\n\x1a\n",  # no chunks
        png(2, 2, 2, 8, pattern(12))[:40],  # cut short inside the image data
        png(2, 2, 2, 8, pattern(12), interlaced=True),
        b"\xff\xd8\xff\xe0\x00\x10JFIF",  # a JPEG without a frame header
    ],
)
def test_unreadable_images_are_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedImage):
        logo_image(data)
