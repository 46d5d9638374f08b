"""The seller's logo: checked from its content (never from a file name or a declared type)."""

import hashlib
import io
import warnings
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

MAX_LOGO_BYTES = 1024 * 1024
MAX_LOGO_SIDE = 4000  # pixels; also keeps a small file from decompressing into a huge bitmap
MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}


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
    if not content:
        raise InvalidLogo("The logo is empty: send the PNG or JPEG file as the request body")
    if len(content) > MAX_LOGO_BYTES:
        raise InvalidLogo(f"The logo is {len(content)} bytes; at most {MAX_LOGO_BYTES} bytes are accepted")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                kind, (width, height) = image.format, image.size
                if kind not in MEDIA_TYPES:
                    raise InvalidLogo(f"The logo is a {kind} image; only PNG and JPEG are accepted")
                if width > MAX_LOGO_SIDE or height > MAX_LOGO_SIDE:
                    raise InvalidLogo(
                        f"The logo is {width} x {height} pixels; at most {MAX_LOGO_SIDE} x {MAX_LOGO_SIDE} are accepted"
                    )
                image.load()  # decodes every pixel: a truncated or corrupt file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombWarning) as error:
        raise InvalidLogo(f"The logo is not a readable PNG or JPEG image ({type(error).__name__})") from None
    return Logo(content=content, media_type=MEDIA_TYPES[kind], width=width, height=height)
