"""The seller's logo: checked from its content (never from a file name or a declared type), and made as
small as the invoice needs, once, when it is uploaded.

The size is read from the file's header and refused above MAX_LOGO_SIDE before a pixel is decoded, so a
small file that declares a huge bitmap (a decompression bomb) costs nothing. A logo within the limit is
decoded, downscaled to fit LOGO_BOX at PRINT_DPI, and encoded again without its metadata (EXIF, ICC
profile, text chunks, anything after the image data): what is stored and shown is only what this module
wrote. Decoding takes up to ~0.2 s of CPU and ~100 MB: callers on an event loop run `check_logo` in a
thread (Pillow releases the GIL while it decodes, resamples and encodes).
"""

import hashlib
import io
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from PIL import Image, ImageFile, UnidentifiedImageError

MAX_LOGO_BYTES = 1024 * 1024
MAX_LOGO_SIDE = 4000  # pixels, checked from the header: decoding the largest takes ~64 MB
MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
LOGO_BOX = (170.0, 56.0)  # points: the most the logo takes on an invoice (width, height); layout.py draws it
PRINT_DPI = 300  # what a printer makes of it; more pixels than this would be invisible on paper
# (709, 234): the most pixels a stored logo keeps; one within it is stored at its size, never enlarged.
STORED_LOGO_SIZE = (math.ceil(LOGO_BOX[0] * PRINT_DPI / 72), math.ceil(LOGO_BOX[1] * PRINT_DPI / 72))
JPEG_QUALITY = 90
GREY_BANDS = ("1", "L", "I", "F")  # Pillow's first band of a grey image


class InvalidLogo(ValueError):
    """The upload is not a logo the invoice can show; the message says why."""


@dataclass(frozen=True)
class Logo:
    content: bytes = field(repr=False)
    media_type: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def check_logo(content: bytes) -> Logo:
    """The logo as it is stored: PNG or JPEG as sent, at most STORED_LOGO_SIZE, without metadata.
    Raises InvalidLogo. CPU-bound: run it off the event loop."""
    if not content:
        raise InvalidLogo("The logo is empty: send the PNG or JPEG file as the request body")
    if len(content) > MAX_LOGO_BYTES:
        raise InvalidLogo(f"The logo is {len(content)} bytes; at most {MAX_LOGO_BYTES} bytes are accepted")
    try:
        with opened_logo(content) as image:
            kind = str(image.format)
            fitted = _fitted(image)  # decodes every pixel: a truncated or corrupt file fails here
            stored = _encoded(fitted, kind)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as error:
        if isinstance(error, InvalidLogo):
            raise
        raise InvalidLogo(f"The logo is not a readable PNG or JPEG image ({type(error).__name__})") from None
    return Logo(content=stored, media_type=MEDIA_TYPES[kind], width=fitted.width, height=fitted.height)


def fits_stored_size(size: tuple[int, int]) -> bool:
    """Whether an image of `size` pixels is stored as it is (no downscaling)."""
    return size[0] <= STORED_LOGO_SIZE[0] and size[1] <= STORED_LOGO_SIZE[1]


@contextmanager
def opened_logo(content: bytes) -> Iterator[ImageFile.ImageFile]:
    """The PNG or JPEG in `content` with only its header read; refused (InvalidLogo) when it is of another
    type or larger than MAX_LOGO_SIDE, before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only the two decoders logos need ever see the bytes.
            image = Image.open(io.BytesIO(content), formats=tuple(MEDIA_TYPES))
    except UnidentifiedImageError:
        raise InvalidLogo("The logo is not a readable PNG or JPEG image: only PNG and JPEG are accepted") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limit (~89 million pixels) is far above ours; its error does not say the size.
        raise InvalidLogo(f"The logo has more than {MAX_LOGO_SIDE} x {MAX_LOGO_SIDE} pixels") from None
    with image:
        width, height = image.size
        if image.format not in MEDIA_TYPES:  # a JPEG-based MPO file, say
            raise InvalidLogo(f"The logo is a {image.format} image; only PNG and JPEG are accepted")
        if width > MAX_LOGO_SIDE or height > MAX_LOGO_SIDE:
            raise InvalidLogo(
                f"The logo is {width} x {height} pixels; at most {MAX_LOGO_SIDE} x {MAX_LOGO_SIDE} are accepted"
            )
        yield image


def _fitted(image: ImageFile.ImageFile) -> Image.Image:
    """The image decoded, downscaled to fit STORED_LOGO_SIZE when it is larger."""
    if fits_stored_size(image.size):
        image.load()
        return image
    if image.format == "JPEG":
        # thumbnail() has the JPEG decoder scale by 1/2, 1/4 or 1/8 as it decodes (draft), then resamples.
        image.thumbnail(STORED_LOGO_SIZE, Image.Resampling.LANCZOS)
        return image
    resampleable = _eight_bit(image)
    resampleable.thumbnail(STORED_LOGO_SIZE, Image.Resampling.LANCZOS)
    return resampleable


def _eight_bit(image: Image.Image) -> Image.Image:
    """8 bits per sample, transparency as an alpha channel: what Pillow resamples smoothly (it resamples
    palette images by nearest neighbour only, and 16-bit grey not at all)."""
    if image.mode in ("LA", "RGBA"):
        return image
    transparent = image.has_transparency_data
    if image.getbands()[0] in GREY_BANDS:
        grey = eight_bit_grey(image)
        return grey.convert("LA") if transparent else grey
    return image.convert("RGBA" if transparent else "RGB")


def eight_bit_grey(image: Image.Image) -> Image.Image:
    """Grey in 8 bits: 16-bit samples keep their high byte (Pillow's own conversion would clip them)."""
    if image.mode in ("1", "L", "LA"):
        return image.convert("L")
    eight_bit = image.point(lambda value: value / 256).convert("L")
    transparent = image.info.get("transparency")
    if isinstance(transparent, int):  # the transparent grey level, reduced like the samples
        eight_bit.info["transparency"] = transparent >> 8
    return eight_bit


def _encoded(image: Image.Image, kind: str) -> bytes:
    """The image as a file of `kind` holding its pixels (and a PNG's transparency), no metadata."""
    transparency = image.info.get("transparency")
    image.info = {} if transparency is None else {"transparency": transparency}  # Pillow writes info's ICC profile
    buffer = io.BytesIO()
    if kind == "JPEG":
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()
