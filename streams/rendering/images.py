"""The seller's logo, read with Pillow, as the samples a PDF image XObject holds.

A JPEG goes into the PDF as it is (DCTDecode): PDF readers decode JPEG themselves, so nothing is lost
or recompressed. Any other image Pillow reads (PNG, as the settings API accepts) is decoded to 8-bit
samples and compressed with FlateDecode; its transparency (an alpha channel, transparent palette
entries or a transparent colour) becomes a soft mask. Decoding happens once per logo and process (the
result is cached), not per invoice. The PDF objects themselves are made by `writer.py`.

Logos are downscaled when they are uploaded (`invoicing/logo.py`), so this reads small images. One
stored before that (up to 4000 x 4000 pixels) is downscaled the same way here, once per process (the
cache again), so that no invoice embeds, and no render decodes, more pixels than it prints.
"""

import zlib
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image

from invoicing.logo import GREY_BANDS, InvalidLogo, check_logo, eight_bit_grey, fits_stored_size, opened_logo

JPEG_COLOUR_SPACES = {"L": "DeviceGray", "RGB": "DeviceRGB", "CMYK": "DeviceCMYK"}  # by Pillow mode


class UnsupportedImage(ValueError):
    """The logo is not a PNG or JPEG image this module can embed."""


@dataclass(frozen=True)
class Raster:
    """Image samples as a PDF image XObject holds them (PDF 8.9.5)."""

    width: int  # in pixels
    height: int
    colour_space: str  # DeviceGray, DeviceRGB, DeviceCMYK, or Indexed over DeviceRGB with `palette`
    data: bytes  # the samples, encoded by `encoding`, 8 bits per component
    encoding: str  # the PDF filter: DCTDecode (a JPEG file) or FlateDecode
    palette: bytes = b""  # RGB triples, for Indexed
    inverted: bool = False  # CMYK JPEGs by Adobe store every sample inverted
    alpha: "Raster | None" = None  # the soft mask (DeviceGray), when some pixels are (part) transparent


Logo = Raster  # the renderer scales the logo into its box keeping width / height


@lru_cache(maxsize=8)
def logo_image(data: bytes) -> Logo:
    try:
        return _read(data)
    except InvalidLogo as error:  # not a PNG or JPEG, or more pixels than the settings API takes
        raise UnsupportedImage(str(error)) from error
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as error:
        raise UnsupportedImage(f"unreadable image data ({type(error).__name__}: {error})") from error


def _read(data: bytes) -> Logo:
    with opened_logo(data) as image:  # refuses a decompression bomb from its header
        if not fits_stored_size(image.size):  # stored before uploads were downscaled
            return _read(check_logo(data).content)
        if image.format == "JPEG" and image.mode in JPEG_COLOUR_SPACES:
            return _jpeg(image, data)
        image.load()  # decodes every pixel: truncated or corrupt data fails here, not later
        return _decoded(image)


def _jpeg(image: Image.Image, data: bytes) -> Raster:
    """The JPEG file as it is: only its header was read (Pillow decodes lazily)."""
    width, height = image.size
    inverted = image.mode == "CMYK" and "adobe" in image.info
    return Raster(width, height, JPEG_COLOUR_SPACES[image.mode], data, "DCTDecode", inverted=inverted)


def _decoded(image: Image.Image) -> Raster:
    """The image's pixels, 8 bits per sample, with their transparency as a soft mask."""
    alpha = _alpha(image) if image.has_transparency_data else None
    if image.mode == "P":  # a palette keeps one byte per pixel rather than three
        palette = bytes(image.getpalette("RGB") or b"")
        return _flate(image, "Indexed", palette=palette, alpha=alpha)
    if image.getbands()[0] in GREY_BANDS:
        return _flate(eight_bit_grey(image), "DeviceGray", alpha=alpha)
    return _flate(image.convert("RGB"), "DeviceRGB", alpha=alpha)


def _alpha(image: Image.Image) -> Raster:
    """Per pixel how opaque it is, from an alpha channel, transparent palette entries or a transparent colour."""
    if image.mode == "I;16" or image.getbands()[0] in ("I", "F"):
        image = eight_bit_grey(image)  # Pillow converts 16-bit grey to RGBA by clipping, not scaling
    with_alpha = image if image.mode in ("LA", "RGBA") else image.convert("RGBA")
    return _flate(with_alpha.getchannel("A"), "DeviceGray")


def _flate(image: Image.Image, colour_space: str, *, palette: bytes = b"", alpha: Raster | None = None) -> Raster:
    width, height = image.size
    return Raster(width, height, colour_space, zlib.compress(image.tobytes()), "FlateDecode", palette, alpha=alpha)
