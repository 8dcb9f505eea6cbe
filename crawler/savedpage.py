"""Saved pages read bounded and decoded as they declare, without Scrapy: the crawl reads them
(``crawler.inputs``: the file handler, a backfill's recognition) and so do the parse workers (a
gzipped page is gunzipped there, ``crawler.sources.wechat``), which import no Scrapy.

A file must be a regular file (not ``/dev/zero``, a FIFO or a folder: ``not-a-file``) of at most
the limit (``SAVED_PAGE_MAXSIZE``); a gzipped body is gunzipped as a stream that stops at the same
limit (``too-large``; a corrupt one: ``bad-gzip``), so a small bomb cannot expand past what a
download may hold.
"""

from __future__ import annotations

import codecs
import os
import stat
import zlib
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, to_unicode

from crawler.sources import SourceError

GZIP_MAGIC = b"\x1f\x8b"
#: Saved-page failures (all permanent: the same file gives the same answer).
MISSING_FILE = "missing-file"
NOT_A_FILE = "not-a-file"
TOO_LARGE = "too-large"
BAD_GZIP = "bad-gzip"

class SavedPageError(SourceError):
    """A saved page (or gzipped body) that cannot be read; ``reason`` names why."""


def read_saved(path: Path, limit: int) -> bytes:
    """The bytes of a saved page: a regular file of at most ``limit`` bytes.

    Opened non-blocking (a FIFO would otherwise hang the open) and checked on the open
    descriptor, so the file checked is the file read. Read in a buffer of the size the file
    has (and on, should it have grown): a buffer of ``limit`` bytes (32 MiB by default) cost
    ~1.5 ms a read, ten times the read of a 3 MB page.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except (FileNotFoundError, NotADirectoryError):
        raise SavedPageError(MISSING_FILE, f"{path}: no such file") from None
    except OSError as exc:
        raise SavedPageError(NOT_A_FILE, f"{path}: {exc.strerror}") from None
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        os.close(fd)
        raise SavedPageError(NOT_A_FILE, f"{path} is not a regular file")
    with open(fd, "rb", buffering=0) as stream:
        chunks = [stream.read(min(status.st_size, limit) + 1)]
        size = len(chunks[0])
        while size <= limit and (chunk := stream.read(min(1 << 20, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(data) > limit:
        raise SavedPageError(TOO_LARGE, f"{path} is over {limit} bytes (SAVED_PAGE_MAXSIZE)")
    return data


def gunzip(data: bytes, limit: int) -> bytes:
    """``data`` gunzipped (every member), stopping as soon as the result would exceed ``limit`` bytes."""
    out = bytearray()
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = data
        try:
            while not inflater.eof:
                out += inflater.decompress(pending, limit + 1 - len(out))
                if len(out) > limit:
                    raise SavedPageError(TOO_LARGE, f"gunzipped page is over {limit} bytes (SAVED_PAGE_MAXSIZE)")
                pending = inflater.unconsumed_tail
                if not pending and not inflater.eof:
                    raise SavedPageError(BAD_GZIP, "gzip data is truncated")
        except zlib.error as exc:
            raise SavedPageError(BAD_GZIP, f"corrupt gzip data ({exc})") from None
        data = inflater.unused_data
        if data.strip(b"\0") == b"":  # trailing zero padding, as gzip(1) tolerates
            break
        if data[:2] != GZIP_MAGIC:
            raise SavedPageError(BAD_GZIP, "trailing garbage after the gzip data")
    return bytes(out)


def _utf8_or_gb18030(data: bytes) -> str:
    """For a page that declares no charset: UTF-8 when it is valid UTF-8, else GB18030 (GBK's superset)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def body_encoding(data: bytes, content_type: str | None, auto_detect: Callable[[bytes], str] | None = None) -> tuple[str, int]:
    """The encoding ``html_to_unicode(content_type, data, auto_detect_fun=auto_detect)`` reads ``data``
    with, and the length of the byte order mark it leaves out, chosen as it chooses (BOM, then the
    ``Content-Type`` charset, then ``<meta charset>``, then ``auto_detect``, else UTF-8) without
    decoding ``data``."""
    bom_encoding, bom = read_bom(data)
    if bom_encoding is not None and bom is not None:
        return bom_encoding, len(bom)
    encoding = http_content_type_encoding(content_type)
    if encoding is None:
        encoding = html_body_declared_encoding(data)
    if encoding is None and auto_detect is not None:
        encoding = auto_detect(data)
    if encoding is None:
        return "utf8", 0
    return encoding + "-be" if encoding in {"utf-16", "utf-32"} else encoding, 0


def is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


class SavedPage:
    """A saved page's bytes (gunzipped, bounded by ``limit``) and its text (``decode_saved``), decoded
    only as far as a question needs: recognising a 3 MB page by its first characters and a few ASCII
    markers cost ~10 ms of the crawl's thread when the whole page was decoded to answer it."""

    def __init__(self, data: bytes, limit: int):
        self.data = gunzip(data, limit) if data[:2] == GZIP_MAGIC else data
        self.encoding, self._bom = body_encoding(self.data, None, _utf8_or_gb18030)
        #: UTF-8: each ASCII byte is that character of the text, and every ASCII character of the
        #: text is its own byte (invalid bytes read as U+FFFD, never as ASCII)
        self._utf8 = is_utf8(self.encoding)

    @property
    def utf8(self) -> bytes | None:
        """The page's bytes, byte order mark left out, when its text is their UTF-8 decoding."""
        return self.data[self._bom :] if self._utf8 else None

    @cached_property
    def text(self) -> str:
        return to_unicode(self.data[self._bom :], self.encoding)

    def __contains__(self, marker: object) -> bool:
        """Whether the text holds ``marker`` (a string)."""
        if self._utf8 and isinstance(marker, str) and marker.isascii():
            return marker.encode("ascii") in self.data
        return marker in self.text

    def head(self, chars: int) -> str:
        """``text[:chars]``: of a UTF-8 page, decoded from its first ``4 * chars + 4`` bytes (a
        character takes at most 4)."""
        if not self._utf8:
            return self.text[:chars]
        return _utf8_head(self.data, self._bom, 4 * chars + 4)[:chars]

    def first(self, skipping: str) -> str:
        """The text's first character not in ``skipping`` (ASCII characters: each its own byte in
        UTF-8), "" if there is none."""
        if not self._utf8:
            return self.text.lstrip(skipping)[:1]
        rest = self.data[self._bom :].lstrip(skipping.encode("ascii"))
        return _utf8_head(rest, 0, 4)[:1]


def _utf8_head(data: bytes, start: int, size: int) -> str:
    """What ``data[start:]`` decodes to (UTF-8, invalid bytes replaced) as far as its first ``size``
    bytes say for sure: an incomplete character at their end is left out, unless the data ends there."""
    piece = data[start : start + size]
    return codecs.getincrementaldecoder("utf-8")("replace").decode(piece, start + len(piece) >= len(data))


def decode_saved(data: bytes, limit: int) -> str:
    """A saved page's text, gunzipped (bounded by ``limit``) when gzipped.

    Decoded as the page declares (BOM, then ``<meta charset>``; GBK and GB2312 read as
    GB18030, which contains them), else UTF-8 or, failing that, GB18030.
    """
    return SavedPage(data, limit).text
