"""What a user hands a spider: lists of URLs and saved pages."""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit


def url_lines(lines: Iterable[str]) -> Iterator[str]:
    """The URLs of a list, one at a time: blank lines and ``#`` comments skipped."""
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def as_url(value: str) -> str:
    """A URL, or a local path made a ``file://`` URL."""
    if urlsplit(value).scheme:
        return value
    return Path(value).expanduser().resolve().as_uri()


def decode_saved(data: bytes) -> str:
    """A saved page's text; saved pages may be gzipped (as the recorded fixtures are)."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")
