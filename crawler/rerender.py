"""Re-rendering stored articles from their raw sources, with no network (``scrapy rerender``).

``RerenderSpider`` makes no request: its ``start`` reads each stored article's newest raw
source from the archive (``pipelines/archive.py``), parses it with the source's own offline
function (``PARSERS``: the very function the crawl's callback calls) and hands the Article to
the project's item pipelines, so it is rendered and written by the same code as in a crawl
(the write stage keeps ``lastmod`` and rewrites only changed bytes, ``pipelines/adapters.py``).
The run report, run lock, progress lines and site-repo commit are the crawl's own.

It lives outside ``SPIDER_MODULES``: only the ``rerender`` command starts it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from crawler.arguments import BOOLEAN_ACCEPTED, Argument, boolean, comma_list, text
from crawler.sources import SourceError, SourceSkip, infoq, pingwest, wallstreetcn, web, wechat
from crawler.spiders.base import ArticleSpider
from pipelines import archive, rerender
from pipelines.adapters import archive_dir
from pipelines.archive import RawSource
from pipelines.article import Article
from pipelines.state import Record

#: raw source parser name → offline "raw → Article" function of that source
PARSERS: dict[str, Callable[[RawSource, BaseSettings], Article]] = {
    infoq.SOURCE: infoq.article_from_raw,
    pingwest.SOURCE: pingwest.article_from_raw,
    wallstreetcn.SOURCE: wallstreetcn.article_from_raw,
    web.PARSER: web.article_from_raw,
    wechat.SOURCE: wechat.article_from_raw,
}
#: skip reason of a stored article whose raw source was never kept (stored before the archive existed)
NO_RAW_SOURCE = "no-raw-source"
#: articles parsed ahead of the pipelines at most (bounds memory on a large archive)
IN_FLIGHT = 16


def selected(records: Iterable[Record], ids: list[str]) -> list[Record]:
    """The records ``ids`` name (by id, or ``source:id`` key)."""
    wanted = set(ids)
    return [record for record in records if record.id in wanted or record.key in wanted]


def parse_raw(raw: RawSource, settings: BaseSettings) -> Article:
    """Today's Article of a raw source (raises SourceError, SourceSkip)."""
    parse = PARSERS.get(raw.parser)
    if parse is None:
        raise SourceError("unknown-parser", f"raw source of parser {raw.parser!r}; known: {', '.join(sorted(PARSERS))}")
    return parse(raw, settings)


class RerenderSpider(ArticleSpider):
    name = "rerender"
    arguments = (
        *ArticleSpider.arguments,
        Argument("source", text, "a source name the state holds articles of"),
        Argument("ids", comma_list, "stored article ids or source:id keys, comma-separated"),
        Argument("dry_run", boolean, BOOLEAN_ACCEPTED),
    )

    def __init__(self, source: str = "", ids: str = "", dry_run: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.source = source
        self.ids = [item.strip() for item in ids.split(",") if item.strip()]
        #: the write stage's mode (``pipelines/adapters.py``)
        self.rerender = rerender.DRY_RUN if dry_run else rerender.WRITE
        self.in_flight = 0
        self._room = asyncio.Event()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> RerenderSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(spider.item_done, signal=signal)
        return spider

    def item_done(self) -> None:
        self.in_flight -= 1
        self._room.set()

    async def start(self) -> AsyncIterator[Article]:
        root = archive_dir(self.crawler)
        records: Iterable[Record] = self.store.records(self.source or None)  # streamed: a store of any size
        if self.ids:
            records = selected(records, self.ids)
        self.url_total = len(records) if isinstance(records, list) else self.store.count(self.source or None)
        for record in records:
            while self.in_flight >= IN_FLIGHT:
                self._room.clear()
                await self._room.wait()
            try:  # reading and parsing off the reactor thread; outcomes recorded on it
                article = await asyncio.to_thread(self.reparse, root, record)
            except SourceSkip as exc:
                self.skip(record.url, exc.reason, exc.detail)
            except SourceError as exc:
                self.fail(record.url, exc.reason, exc.detail)
            else:
                self.in_flight += 1
                yield article

    def reparse(self, root: Path, record: Record) -> Article:
        """The stored article parsed again from its newest raw source (raises SourceError, SourceSkip)."""
        raw = archive.load(root, record.key)
        if raw is None:
            raise SourceSkip(NO_RAW_SOURCE, f"{record.key} was stored before raw sources were kept")
        article = parse_raw(raw, self.settings)
        if article.key != record.key:
            raise SourceError("identity-changed", f"stored as {record.key}, its raw source now reads as {article.key}")
        return article
