"""wallstreetcn.com articles from the public JSON API, newest first.

    scrapy crawl wallstreetcn [-a pages=N] [-a since=YYYY-MM-DD[THH:MM]] [-a demo=1]
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from scrapy import Request
from scrapy.http import Response

from crawler import outcomes
from crawler.sources import SourceError
from crawler.sources import wallstreetcn as source
from crawler.spiders.base import ArticleSpider
from pipelines.article import Article


def parse_since(value: str, timezone: str) -> int:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` in the site's zone, as unix seconds."""
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return int(datetime.strptime(value, fmt).replace(tzinfo=ZoneInfo(timezone)).timestamp())
        except ValueError:
            continue
    raise ValueError(f"since={value!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM")


class WallstreetcnSpider(ArticleSpider):
    name = source.SOURCE

    def __init__(self, pages: str | int = 1, since: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.pages = int(pages)
        if self.pages < 1:
            raise ValueError(f"pages={pages!r} must be at least 1")
        self.since_arg = since
        self.seen: set[str] = set()

    @property
    def api_base(self) -> str:
        return self.demo_url or self.settings.get("WALLSTREETCN_API_BASE")

    async def start(self) -> AsyncIterator[Request]:
        self.since = parse_since(self.since_arg, self.settings.get("TIMEZONE")) if self.since_arg else None
        yield self.listing_request()

    def listing_request(self, cursor: str = "", page: int = 1) -> Request:
        return Request(
            source.listing_url(self.api_base, cursor),
            headers=source.HEADERS,
            callback=self.parse_listing,
            errback=self.request_failed,
            cb_kwargs={"page": page},
            meta={"listing": True},
        )

    def detail_request(self, article_id: str) -> Request:
        return Request(
            source.detail_url(self.api_base, article_id),
            headers=source.HEADERS,
            callback=self.parse_detail,
            errback=self.request_failed,
            meta={"article_url": source.article_url(article_id)},
        )

    def parse_listing(self, response: Response, page: int) -> Iterator[Request]:
        try:
            items, cursor = source.parse_listing(source.envelope_data(response.body))
        except SourceError as exc:
            outcomes.record_listing_failure(self.crawler, response.url, exc.reason, exc.detail)
            return
        self.crawler.stats.inc_value("listing/pages")
        reached_since = False
        for item in items:
            article_id = str(item["id"])
            url = source.article_url(article_id)
            if article_id in self.seen:
                self.crawler.stats.inc_value("listing/duplicate")
                continue
            self.seen.add(article_id)
            if self.since is not None and int(item.get("display_time") or 0) < self.since:
                reached_since = True
                continue
            reason = source.skip_reason(item)
            if reason:
                self.skip(url, reason, str(item.get("layout", "")) if reason == "layout" else "")
                continue
            yield self.detail_request(article_id)
        if cursor and page < self.pages and not reached_since:
            yield self.listing_request(cursor, page + 1)
        else:
            self.logger.info("Listing done after %d page(s)", page)

    def parse_detail(self, response: Response) -> Iterator[Article]:
        url = response.meta["article_url"]
        try:
            article = source.article_from_detail(source.envelope_data(response.body))
        except SourceError as exc:
            if exc.reason == "paid":
                self.skip(url, "paid", exc.detail)
            else:
                self.fail(url, exc.reason, exc.detail)
            return
        yield article
