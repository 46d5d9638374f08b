"""The seller's logo as a PDF image XObject, from PNG or JPEG bytes, without an imaging library.

JPEG data goes into the PDF as it is (DCTDecode). So does PNG data without transparency: FlateDecode
with the PNG predictors (PDF 7.4.4.4) reads PNG's compressed scanlines directly. A PNG with an alpha
channel or a transparent palette entry is unfiltered here to split colour from alpha, which becomes the
image's soft mask; that happens once per logo and process (the result is cached), not per invoice.
"""

import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

from borb.pdf.primitives import hexstr, name, stream

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers of every JPEG coding process (not DHT C4, JPG C8 or DAC CC).
JPEG_FRAME_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
JPEG_COLOUR_SPACES = {1: "DeviceGray", 3: "DeviceRGB", 4: "DeviceCMYK"}
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by PNG colour type: grey, RGB, palette, grey+alpha, RGBA


class UnsupportedImage(ValueError):
    """The logo is not a PNG or JPEG image this module can embed."""


@dataclass(frozen=True)
class Logo:
    width: int  # in pixels; the renderer scales the image into its box keeping this aspect ratio
    height: int
    xobject: stream


@lru_cache(maxsize=8)
def logo_image(data: bytes) -> Logo:
    try:
        if data.startswith(PNG_SIGNATURE):
            return _png(data)
        if data.startswith(b"\xff\xd8"):
            return _jpeg(data)
    except (struct.error, zlib.error, IndexError) as error:  # truncated or corrupt data
        raise UnsupportedImage(f"broken image data: {error}") from error
    raise UnsupportedImage("the logo is neither a PNG nor a JPEG image")


def _image(width: int, height: int, colour_space: object, bits: int, data: bytes, filter_name: str) -> stream:
    image = stream()
    image[name("Type")] = name("XObject")
    image[name("Subtype")] = name("Image")
    image[name("Width")] = width
    image[name("Height")] = height
    image[name("ColorSpace")] = colour_space
    image[name("BitsPerComponent")] = bits
    image[name("Filter")] = name(filter_name)
    image[name("Bytes")] = data
    image[name("Length")] = len(data)
    return image


def _jpeg(data: bytes) -> Logo:
    offset, adobe = 2, False
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            raise UnsupportedImage("broken JPEG marker")
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        length = int.from_bytes(data[offset + 2 : offset + 4], "big")
        if marker == 0xEE and data[offset + 4 : offset + 9] == b"Adobe":
            adobe = True
        if marker in JPEG_FRAME_MARKERS:
            bits, height, width, components = struct.unpack(">BHHB", data[offset + 4 : offset + 10])
            if components not in JPEG_COLOUR_SPACES:
                raise UnsupportedImage(f"JPEG with {components} components")
            image = _image(width, height, name(JPEG_COLOUR_SPACES[components]), bits, data, "DCTDecode")
            if components == 4 and adobe:  # Adobe's CMYK JPEGs store inverted values
                image[name("Decode")] = [1, 0, 1, 0, 1, 0, 1, 0]
            return Logo(width, height, image)
        offset += 2 + length
    raise UnsupportedImage("JPEG without a frame header")


def _png(data: bytes) -> Logo:
    offset = len(PNG_SIGNATURE)
    header, palette, transparency, compressed = b"", b"", b"", bytearray()
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"PLTE":
            palette = body
        elif kind == b"tRNS":
            transparency = body
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
        offset += 12 + length
    if len(header) != 13 or not compressed:
        raise UnsupportedImage("PNG without a header or image data")
    width, height, bits, colour_type, _, _, interlaced = struct.unpack(">IIBBBBB", header)
    if interlaced:
        raise UnsupportedImage("interlaced PNG")
    if colour_type not in PNG_CHANNELS:
        raise UnsupportedImage(f"PNG colour type {colour_type}")
    channels = PNG_CHANNELS[colour_type]
    colour_space: object = name("DeviceRGB") if colour_type in (2, 6) else name("DeviceGray")
    if colour_type == 3:
        colour_space = [name("Indexed"), name("DeviceRGB"), len(palette) // 3 - 1, hexstr(palette.hex())]

    if colour_type in (0, 2, 3) and not (colour_type == 3 and transparency):
        # The PNG data as it is, read through the PNG predictors.
        image = _image(width, height, colour_space, bits, bytes(compressed), "FlateDecode")
        image[name("DecodeParms")] = {
            name("Predictor"): 15,
            name("Colors"): channels,
            name("BitsPerComponent"): bits,
            name("Columns"): width,
        }
        if transparency:  # one colour (grey or RGB) is fully transparent: a colour key mask
            key = struct.unpack(f">{channels}H", transparency[: 2 * channels])
            image[name("Mask")] = [value for sample in key for value in (sample, sample)]
        return Logo(width, height, image)

    row_bytes = (width * channels * bits + 7) // 8
    pixels = _unfilter(zlib.decompress(compressed), row_bytes, height, max(1, channels * bits // 8))
    if colour_type == 3:  # a palette with transparent entries: alpha per palette index
        alpha_by_index = transparency.ljust(256, b"\xff")[:256]
        colour = bytes(pixels)
        alpha = _palette_indices(pixels, row_bytes, width, bits).translate(alpha_by_index)
        alpha_bits = 8
    else:  # grey+alpha or RGBA: every pixel's last sample is alpha
        sample = bits // 8
        pixel = channels * sample
        colour_pixel = pixel - sample
        count = width * height
        colour_buffer, alpha_buffer = bytearray(count * colour_pixel), bytearray(count * sample)
        for byte in range(pixel):
            if byte < colour_pixel:
                colour_buffer[byte::colour_pixel] = pixels[byte::pixel]
            else:
                alpha_buffer[byte - colour_pixel :: sample] = pixels[byte::pixel]
        colour, alpha, alpha_bits = bytes(colour_buffer), bytes(alpha_buffer), bits
    image = _image(width, height, colour_space, bits, zlib.compress(colour), "FlateDecode")
    image[name("SMask")] = _image(width, height, name("DeviceGray"), alpha_bits, zlib.compress(alpha), "FlateDecode")
    return Logo(width, height, image)


def _unfilter(raw: bytes, row_bytes: int, height: int, pixel_bytes: int) -> bytearray:
    """Undo PNG's per-row filters (PNG spec 9.2): the plain samples, row after row, without filter bytes."""
    result = bytearray(row_bytes * height)
    previous = bytearray(row_bytes)
    position = 0
    for row in range(height):
        kind = raw[position]
        line = bytearray(raw[position + 1 : position + 1 + row_bytes])
        position += 1 + row_bytes
        if kind == 1:  # Sub
            for i in range(pixel_bytes, row_bytes):
                line[i] = (line[i] + line[i - pixel_bytes]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:  # Average
            for i in range(row_bytes):
                left = line[i - pixel_bytes] if i >= pixel_bytes else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(row_bytes):
                left = line[i - pixel_bytes] if i >= pixel_bytes else 0
                up = previous[i]
                up_left = previous[i - pixel_bytes] if i >= pixel_bytes else 0
                estimate = left + up - up_left
                distances = abs(estimate - left), abs(estimate - up), abs(estimate - up_left)
                if distances[0] <= distances[1] and distances[0] <= distances[2]:
                    predictor = left
                elif distances[1] <= distances[2]:
                    predictor = up
                else:
                    predictor = up_left
                line[i] = (line[i] + predictor) & 0xFF
        elif kind != 0:
            raise UnsupportedImage(f"PNG filter type {kind}")
        result[row * row_bytes : (row + 1) * row_bytes] = line
        previous = line
    return result


def _palette_indices(pixels: bytearray, row_bytes: int, width: int, bits: int) -> bytes:
    """One byte per pixel: palette indices packed 1, 2 or 4 to a byte are spread out (rows end byte-aligned)."""
    if bits == 8:
        return bytes(pixels)
    per_byte, mask = 8 // bits, (1 << bits) - 1
    spread = [bytes((byte >> (8 - bits * (k + 1))) & mask for k in range(per_byte)) for byte in range(256)]
    rows = (pixels[start : start + row_bytes] for start in range(0, len(pixels), row_bytes))
    return b"".join(b"".join(spread[byte] for byte in row)[:width] for row in rows)
