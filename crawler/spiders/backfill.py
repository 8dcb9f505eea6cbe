"""Backfill: the articles a list of URLs names, from any supported source.

    scrapy crawl backfill -a urls_file=FILE [-a refresh=1]      (FILE "-" reads stdin)

One URL per line; blank lines and ``#`` comments are ignored. A line may be a
source's article URL or a saved page (``file://…`` or a plain path), which is
recognised from its own content; ``ROUTES`` sends each to its source, and any other
http(s) URL or saved HTML page to the generic path (``crawler.sources.web``). Stored
articles are skipped unless ``-a refresh=1`` (or its old name ``force=1``); lines no
source takes (a saved file that is no HTML page) are reported as skipped ``unsupported``,
lines that are no URL or path fail ``bad-line``. The list is read lazily: a line is read only once the scheduler
has room, so a list of any length never sits in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.http import Response
from w3lib.url import file_uri_to_path

from crawler.arguments import REFRESH, URLS_FILE_ACCEPTED, Argument, text
from crawler.inputs import as_url, saved_page_limit
from crawler.savedpage import SavedPage, SavedPageError, read_saved
from crawler.sources import wallstreetcn, web, wechat
from crawler.sources.wechat_url import article_identity
from crawler.spiders import wallstreetcn as wallstreetcn_spider
from crawler.spiders.base import ArticleSpider
from crawler.spiders.web import WebPages
from crawler.spiders.wechat import WechatPages
from pipelines.article import Article


@dataclass(frozen=True)
class Route:
    """How one source takes part in backfills."""

    #: key prefix of the source's articles in the state store
    prefix: str
    #: the article id an URL names, or None when the URL is not this source's
    identify: Callable[[str], str | None]
    #: whether a saved file is one of this source's pages
    recognizes: Callable[[SavedPage], bool]
    #: the request for (spider, URL, id — None for a saved file), or None once the spider recorded why not
    request: Callable[[BackfillSpider, str, str | None], Request | None]


def saved_page(uri: str, limit: int) -> SavedPage:
    """A saved page (gzip or not), read bounded; ``SavedPageError`` says why it cannot be."""
    return SavedPage(read_saved(Path(file_uri_to_path(uri)), limit), limit)


def is_saved_answer(saved: SavedPage) -> bool:
    """Whether a saved file is a wallstreetcn API answer: JSON starts with an object, so a file whose
    text starts otherwise (past JSON's spaces) is not decoded whole to say it is none."""
    return saved.first(" \t\n\r") == "{" and wallstreetcn.is_detail_answer(saved.text)


def is_saved_html(saved: SavedPage) -> bool:
    """Whether a saved file is any HTML page: ``looks_like_html`` reads only its first characters."""
    return web.looks_like_html(saved.head(web.HTML_HEAD_CHARS))


class BackfillSpider(WebPages, WechatPages):
    name = "backfill"
    arguments = (
        *ArticleSpider.arguments,
        Argument("urls_file", text, URLS_FILE_ACCEPTED),
        REFRESH,
    )
    required_arguments = (("urls_file",),)

    def __init__(self, urls_file: str = "-", refresh: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.urls_file = urls_file
        self.refresh = refresh

    async def start(self) -> AsyncIterator[Request]:
        self.url_total = await asyncio.to_thread(self.count_listed, self.urls_file)
        async for line in self.listed_urls(self.urls_file):
            request = self.request_for(line)
            if request is None:
                continue
            yield request
            # Lazy start (Scrapy docs, "start-requests-lazy"): read on only once the scheduler has room.
            await self.crawler.signals.wait_for(signals.scheduler_empty)

    def request_for(self, line: str) -> Request | None:
        """The request for one line, or None after recording why there is none."""
        url = as_url(line)  # a line without a scheme is a local path
        if url.startswith("file://"):
            try:
                saved = saved_page(url, saved_page_limit(self.settings))
            except SavedPageError as exc:
                self.fail(url, exc.reason, exc.detail)
                return None
            route = next((r for r in ROUTES if r.recognizes(saved)), None)
            if route is None:
                self.skip(url, "unsupported", "saved file is no known source's page")
                return None
            return route.request(self, url, None)
        for route in ROUTES:
            article_id = route.identify(url)
            if article_id is None:
                continue
            key = f"{route.prefix}:{article_id}"
            if not self.first_listed(key):
                self.skip(url, "duplicate-url", f"same article as an earlier line ({key})")
                return None
            return None if self.stored(url, [key]) else route.request(self, url, article_id)
        self.skip(url, "unsupported", "no source takes this URL")
        return None

    # --- wallstreetcn -----------------------------------------------------------------------------

    def wallstreetcn_request(self, url: str, article_id: str | None) -> Request:
        if article_id is None:  # a saved API answer
            return Request(url, callback=self.parse_wallstreetcn, errback=self.request_failed, meta={"article_url": url})
        api_base = self.settings.get("WALLSTREETCN_API_BASE")
        return wallstreetcn_spider.detail_request(api_base, article_id, callback=self.parse_wallstreetcn, errback=self.request_failed)

    def parse_wallstreetcn(self, response: Response) -> Iterator[Article | Request]:
        yield from self.unless_stored(response, self.article_from(response, lambda r: wallstreetcn_spider.parse_detail(r, self.settings)))

    # --- WeChat (page handling from WechatPages) --------------------------------------------------

    def wechat_request(self, url: str, article_id: str | None) -> Request | None:
        if self.is_backed_off(url):
            self.report_not_attempted(url)
            return None
        return self.page_request(url)

    # --- any other page (page handling from WebPages) ---------------------------------------------

    def any_page_request(self, url: str, article_id: str | None) -> Request | None:
        if self.is_backed_off(url):
            self.report_not_attempted(url)
            return None
        return self.web_request(url)


ROUTES: tuple[Route, ...] = (
    Route(
        prefix=wallstreetcn.SOURCE,
        identify=wallstreetcn.id_from_url,
        recognizes=is_saved_answer,
        request=BackfillSpider.wallstreetcn_request,
    ),
    Route(
        prefix=wechat.ALIAS_PREFIX.rstrip(":"),
        identify=article_identity,
        recognizes=wechat.is_wechat_page,
        request=BackfillSpider.wechat_request,
    ),
    # Last: takes every http(s) URL and saved HTML page the sources above did not.
    Route(
        prefix=web.ALIAS_PREFIX.rstrip(":"),
        identify=web.web_identity,
        recognizes=is_saved_html,
        request=BackfillSpider.any_page_request,
    ),
)
