"""A smaller copy of an article's cover for list pages, made with Pillow (``IMAGES_THUMBNAIL_WIDTH``).

Mainroad shows ``thumbnail`` on every list page; a 3000-pixel cover there costs every reader its
full weight. The copy is made from the cover's file in the bundle, so it needs no network and
is the same on every run (same bytes: same Pillow, same settings); the cover itself stays as served.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps

from pipelines.write import write_bytes_atomic

#: Encoder options per format: fixed, so a rerun writes the same bytes.
SAVE_OPTIONS = {"JPEG": {"quality": 85}, "PNG": {}, "WEBP": {"quality": 80}}


def thumbnail_name(cover: str, width: int) -> str:
    """``<cover stem>-w<width>.<ext>``: the copy's name, known without opening anything."""
    stem, _, extension = cover.rpartition(".")
    return f"{stem}-w{width}.{extension}"


def make_thumbnail(folder: Path, cover: str, width: int) -> str | None:
    """The name of a copy of ``folder/cover`` at most ``width`` pixels wide (made when missing),
    or None when the cover itself will do: narrow enough, animated, or a format not re-encoded here."""
    path = folder / cover
    with Image.open(path) as image:
        fmt, frames = image.format or "", getattr(image, "n_frames", 1)
        if fmt not in SAVE_OPTIONS or frames > 1:
            return None
        upright = ImageOps.exif_transpose(image)  # the copy drops EXIF: its orientation is applied instead
        if upright.width <= width:
            return None
        name = thumbnail_name(cover, width)
        target = folder / name
        if target.is_file():
            return name
        height = max(1, round(upright.height * width / upright.width))
        small = upright.resize((width, height), Image.Resampling.LANCZOS)
        if fmt == "JPEG" and small.mode not in ("RGB", "L"):
            small = small.convert("RGB")
        out = BytesIO()
        small.save(out, fmt, **SAVE_OPTIONS[fmt])
    write_bytes_atomic(target, out.getvalue())
    return name
