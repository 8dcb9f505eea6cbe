"""Images made with Pillow for the tests (hand-made, not recorded): one of each kind the site
must keep byte for byte, and each kind of bad file a server may send instead."""

from __future__ import annotations

from io import BytesIO

from PIL import Image


def png_alpha() -> bytes:
    """A PNG with a half-transparent pixel (RGBA)."""
    image = Image.new("RGBA", (6, 4), (200, 30, 30, 255))
    image.putpixel((1, 1), (0, 0, 255, 128))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def animated_gif() -> bytes:
    """A GIF of three frames that loops."""
    frames = [Image.new("RGB", (5, 5), color) for color in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    out = BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def jpeg_exif() -> bytes:
    """A JPEG whose EXIF says "rotate 90° clockwise to show" (Orientation 6)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    out = BytesIO()
    Image.new("RGB", (8, 4), (10, 120, 10)).save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def webp() -> bytes:
    out = BytesIO()
    Image.new("RGB", (7, 3), (40, 40, 200)).save(out, "WEBP")
    return out.getvalue()


def corrupt_png() -> bytes:
    """A PNG cut off halfway (a transfer that broke)."""
    image = Image.effect_noise((64, 64), 80).convert("RGB")
    out = BytesIO()
    image.save(out, "PNG")
    data = out.getvalue()
    return data[: len(data) // 2]


def bomb_png(side: int = 10_000) -> bytes:
    """A few-kB PNG of ``side``² pixels (a decompression bomb: 100 M pixels by default)."""
    out = BytesIO()
    Image.new("1", (side, side)).save(out, "PNG", optimize=True)
    return out.getvalue()


def placeholder_png() -> bytes:
    """Stand-in for WeChat's "this image cannot be shown" picture (its hash is made known by a setting)."""
    out = BytesIO()
    Image.new("RGB", (9, 9), (230, 230, 230)).save(out, "PNG")
    return out.getvalue()


HTML_PAGE = b"<!DOCTYPE html><html><head><title>403</title></head><body>Forbidden</body></html>"
