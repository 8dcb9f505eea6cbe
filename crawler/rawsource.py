"""Responses as raw sources and back: what the raw archive (``pipelines/archive.py``) keeps of a
response, and the Scrapy response a re-render rebuilds from it, so the source parsers read
the same text (same response class, same declared charset) as in the crawl."""

from __future__ import annotations

from typing import Any

from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from w3lib.url import file_uri_to_path

from pipelines.archive import KEPT_HEADERS, RawSource
from pipelines.state import utc_now


def from_response(response: Response, parser: str, context: dict[str, Any] | None = None) -> RawSource:
    """``response`` as a raw source for ``parser``, fetched now; ``context``: what else the parser reads."""
    headers = {}
    for name in KEPT_HEADERS:
        value = response.headers.get(name)
        if value is not None:
            headers[name] = value.decode("latin-1")
    return RawSource(parser=parser, url=response.url, body=response.body, fetched=utc_now(),
                     headers=headers, status=response.status, context=dict(context or {}))


def to_response(raw: RawSource) -> Response:
    """The response ``raw`` was taken from, as the downloader built it (class from headers, URL, file name, body)."""
    headers = Headers(raw.headers)
    filename = file_uri_to_path(raw.url) if raw.url.startswith("file:") else None
    cls = responsetypes.from_args(headers=headers, url=raw.url, filename=filename, body=raw.body)
    return cls(url=raw.url, status=raw.status, headers=headers, body=raw.body)
