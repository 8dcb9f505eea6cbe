"""Is a downloaded file an image the site can show? Checked with Pillow, never re-encoded.

A server can answer an image URL with anything: an HTML error page with status 200, a
truncated transfer, WeChat's "this image cannot be shown" placeholder, or a small file
that decodes to billions of pixels (a decompression bomb). Each is refused here with a
kebab-case reason, and the article keeps the remote URL. A good file is kept exactly as
served (animated GIF frames, PNG alpha, WebP, JPEG EXIF all survive): only its real
format is read, to name it by content hash and the extension of that format.
"""

from __future__ import annotations

import hashlib
import struct
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, UnidentifiedImageError

#: Formats browsers show, by Pillow's name, with the extension a file of that format gets.
WEB_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "AVIF": "avif"}
#: Pixels (width × height of a frame) above which a file is refused as a bomb.
DEFAULT_MAX_PIXELS = 50_000_000
#: An animation may decode to this many times the pixel limit over all its frames.
ANIMATION_FACTOR = 4
#: How a file must not start to be an image: markup (an error or login page served as the image).
_MARKUP_STARTS = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml", b"<svg", b"<!--", b"<title", b"<meta")
# Pillow warns above its own pixel limit (and raises above twice it); our limit, IMAGES_MAX_PIXELS, is
# checked before anything is decoded, so the warning is noise in the crawl log.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

#: Hex digits of the content hash in a file name.
NAME_DIGITS = 20


class ImageRejected(ValueError):
    """The file is not a usable image; ``reason`` names why (the failure's name in stats and report)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class CheckedImage:
    format: str  #: Pillow's format name, e.g. "PNG"
    extension: str  #: without the dot, e.g. "png"
    width: int
    height: int
    frames: int
    sha256: str

    @property
    def name(self) -> str:
        """The stable file name: content hash plus the real format's extension (a rerun gives the same name)."""
        return f"{self.sha256[:NAME_DIGITS]}.{self.extension}"


def looks_like_markup(data: bytes) -> bool:
    """Whether ``data`` starts as HTML/XML does (after a BOM and white space), in any case."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n\f").lower()
    return head.startswith(_MARKUP_STARTS)


def check_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS,
                placeholder_hashes: Collection[str] = ()) -> CheckedImage:
    """The image ``data`` holds, or ImageRejected: ``empty``, ``placeholder-image`` (sha256 in
    ``placeholder_hashes``), ``html-not-image``, ``not-an-image``, ``unsupported-format``,
    ``too-many-pixels`` (a frame over ``max_pixels``, or all frames over ``ANIMATION_FACTOR`` times it:
    a bomb is refused before it is decoded), ``corrupt-image`` (truncated or damaged: verified and decoded in full)."""
    if not data:
        raise ImageRejected("empty", "the server sent no bytes")
    digest = hashlib.sha256(data).hexdigest()
    if digest in {h.lower() for h in placeholder_hashes}:
        raise ImageRejected("placeholder-image", f"a known placeholder (sha256 {digest})")
    if looks_like_markup(data):
        raise ImageRejected("html-not-image", f"markup, not an image: {data[:60]!r}")
    try:
        with Image.open(BytesIO(data)) as image:
            fmt, (width, height) = image.format or "", image.size
            frames = getattr(image, "n_frames", 1)
    except Image.DecompressionBombError as exc:
        raise ImageRejected("too-many-pixels", str(exc)) from None
    except UnidentifiedImageError:
        raise ImageRejected("not-an-image", f"no image format recognised in {data[:16]!r}") from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error) as exc:
        raise ImageRejected("corrupt-image", f"unreadable header: {exc}") from None
    if fmt not in WEB_FORMATS:
        raise ImageRejected("unsupported-format", f"{fmt or 'unknown'} is not a format browsers show")
    if width * height > max_pixels:
        raise ImageRejected("too-many-pixels", f"{width}×{height} is over {max_pixels} pixels")
    if width * height * frames > ANIMATION_FACTOR * max_pixels:
        raise ImageRejected("too-many-pixels", f"{frames} frames of {width}×{height} are over "
                                               f"{ANIMATION_FACTOR}×{max_pixels} pixels")
    try:
        with Image.open(BytesIO(data)) as image:
            image.verify()  # checksums and structure (PNG CRCs), without decoding
        with Image.open(BytesIO(data)) as image:
            for frame in range(frames):  # every frame decoded: a truncated end shows only there
                image.seek(frame)
                image.load()
    except Image.DecompressionBombError as exc:
        raise ImageRejected("too-many-pixels", str(exc)) from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error) as exc:
        raise ImageRejected("corrupt-image", f"{fmt} does not decode: {exc}") from None
    return CheckedImage(fmt, WEB_FORMATS[fmt], width, height, frames, digest)
