"""What a user hands a spider: lists of URLs and saved pages.

Saved pages are read bounded: a file must be a regular file (not ``/dev/zero``, a FIFO
or a folder: ``not-a-file``) of at most ``SAVED_PAGE_MAXSIZE`` bytes, and a gzipped body —
a saved ``.html.gz``, or any response starting with the gzip magic bytes — is gunzipped
as a stream that stops at the same limit (``too-large``; a corrupt one: ``bad-gzip``), so
a small bomb cannot expand past what a download may hold.
"""

from __future__ import annotations

import os
import stat
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import run_in_thread
from w3lib.encoding import html_to_unicode
from w3lib.url import file_uri_to_path

from crawler.sources import SourceError

GZIP_MAGIC = b"\x1f\x8b"
#: Saved-page failures (all permanent: the same file gives the same answer).
MISSING_FILE = "missing-file"
NOT_A_FILE = "not-a-file"
TOO_LARGE = "too-large"
BAD_GZIP = "bad-gzip"


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


class SavedPageError(SourceError):
    """A saved page (or gzipped body) that cannot be read; ``reason`` names why."""


def saved_page_limit(settings: BaseSettings) -> int:
    return settings.getint("SAVED_PAGE_MAXSIZE")


def read_saved(path: Path, limit: int) -> bytes:
    """The bytes of a saved page: a regular file of at most ``limit`` bytes.

    Opened non-blocking (a FIFO would otherwise hang the open) and checked on the open
    descriptor, so the file checked is the file read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except (FileNotFoundError, NotADirectoryError):
        raise SavedPageError(MISSING_FILE, f"{path}: no such file") from None
    except OSError as exc:
        raise SavedPageError(NOT_A_FILE, f"{path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SavedPageError(NOT_A_FILE, f"{path} is not a regular file")
    with open(fd, "rb") as stream:
        data = stream.read(limit + 1)
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


def decode_saved(data: bytes, limit: int) -> str:
    """A saved page's text, gunzipped (bounded by ``limit``) when gzipped.

    Decoded as the page declares (BOM, then ``<meta charset>``; GBK and GB2312 read as
    GB18030, which contains them), else UTF-8 or, failing that, GB18030.
    """
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, limit)
    return html_to_unicode(None, data, auto_detect_fun=_utf8_or_gb18030)[1]


class SavedPageHandler(BaseDownloadHandler):
    """Scrapy's ``file://`` download handler, bounded: ``read_saved`` instead of reading whatever the path holds."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.limit = saved_page_limit(crawler.settings)

    async def download_request(self, request: Request) -> Response:
        path = Path(file_uri_to_path(request.url))
        body = await run_in_thread(read_saved, path, self.limit)
        return responsetypes.from_args(filename=str(path), body=body)(url=request.url, body=body)
