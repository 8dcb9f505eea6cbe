"""Backfill: the articles a list of URLs names, from any supported source.

    scrapy crawl backfill -a urls_file=FILE [-a force=1]      (FILE "-" reads stdin)

One URL per line; blank lines and ``#`` comments are ignored. A line may be a
source's article URL (dispatched by ``ROUTES``) or a saved file (``file://…``
or a plain path), which is recognised from its own content. Stored articles are
skipped unless ``-a force=1``; lines no source takes are reported as skipped
``unsupported``. The list is read lazily: a line is read only when the
scheduler has room, so a list of any length never sits in memory.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.http import Response
from scrapy.settings import BaseSettings

from crawler.sources import wallstreetcn
from crawler.spiders import wallstreetcn as wallstreetcn_spider
from crawler.spiders.base import ArticleSpider, flag
from pipelines.article import Article


@dataclass(frozen=True)
class Route:
    """How one source takes part in backfills."""

    source: str
    #: the article id a URL names, or None when the URL is not this source's
    identify: Callable[[str], str | None]
    #: the request for (URL, id); the spider sets callback and errback
    request: Callable[[str, str, BaseSettings], Request]
    #: the article of a response (raises SourceError)
    parse: Callable[[Response], Article]
    #: whether a saved file's response is one of this source's pages
    recognizes: Callable[[Response], bool]


ROUTES: tuple[Route, ...] = (
    Route(
        source=wallstreetcn.SOURCE,
        identify=wallstreetcn.id_from_url,
        request=lambda url, article_id, settings: wallstreetcn_spider.detail_request(
            settings.get("WALLSTREETCN_API_BASE"), article_id
        ),
        parse=wallstreetcn_spider.parse_detail,
        recognizes=lambda response: wallstreetcn.is_detail_answer(response.body),
    ),
)


def url_lines(stream: TextIO) -> Iterator[str]:
    """The URLs of a list, one at a time."""
    for line in stream:
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def saved_file_uri(line: str) -> str | None:
    """``file://`` URI of a saved page (given as such or as a path to an existing file), else None."""
    if line.startswith("file://"):
        return line
    if not urlsplit(line).scheme and Path(line).is_file():
        return Path(line).resolve().as_uri()
    return None


class BackfillSpider(ArticleSpider):
    name = "backfill"
    routes = ROUTES

    def __init__(self, urls_file: str = "", force: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        if not urls_file:
            raise ValueError("backfill needs -a urls_file=FILE (one URL per line; - for stdin)")
        if urls_file != "-" and not Path(urls_file).is_file():
            raise ValueError(f"urls_file={urls_file!r} is not a file")
        self.urls_file = urls_file
        self.force = flag(force)

    def open_list(self) -> TextIO | nullcontext[TextIO]:
        return nullcontext(sys.stdin) if self.urls_file == "-" else open(self.urls_file, encoding="utf-8")

    async def start(self) -> AsyncIterator[Request]:
        with self.open_list() as stream:
            lines = url_lines(stream)
            # Each line is read off the reactor thread: a slow pipe on stdin must not stall the crawl.
            while (line := await asyncio.to_thread(next, lines, None)) is not None:
                request = self.request_for(line)
                if request is None:
                    continue
                yield request
                # Lazy start (Scrapy docs, "start-requests-lazy"): read on only once the scheduler has room.
                await self.crawler.signals.wait_for(signals.scheduler_empty)

    def request_for(self, line: str) -> Request | None:
        """The request for one line, or None after recording why there is none."""
        saved = saved_file_uri(line)
        if saved:
            return Request(saved, callback=self.parse_saved, errback=self.request_failed, meta={"article_url": saved})
        for route in self.routes:
            article_id = route.identify(line)
            if article_id is None:
                continue
            if self.stored(line, [f"{route.source}:{article_id}"]):
                return None
            request = route.request(line, article_id, self.settings)
            return request.replace(
                callback=self.parse_article,
                errback=self.request_failed,
                cb_kwargs={"route": route.source},
                meta={"article_url": line} | request.meta,
            )
        self.skip(line, "unsupported", "no source takes this URL")
        return None

    def stored(self, url: str, keys: list[str]) -> bool:
        """Whether the article is already written (and so skipped, unless ``force``)."""
        if self.force:
            return False
        owner = self.state.owner(keys)
        if owner:
            self.skip(url, "stored", owner.path)
        return owner is not None

    def parse_article(self, response: Response, route: str) -> Iterator[Article]:
        parse = next(r.parse for r in self.routes if r.source == route)
        for article in self.article_from(response, parse):
            if not self.stored(response.meta["article_url"], [article.key, *article.aliases]):
                yield article

    def parse_saved(self, response: Response) -> Iterator[Article]:
        route = next((r for r in self.routes if r.recognizes(response)), None)
        if route is None:
            self.skip(response.url, "unsupported", "saved file is no known source's page")
            return
        yield from self.parse_article(response, route.source)
