"""wallstreetcn.com articles from the public JSON API, newest first.

    scrapy crawl wallstreetcn [-a pages=N] [-a since=YYYY-MM-DD[THH:MM]] [-a refresh=1] [-a demo=1]

A scheduled run fetches only articles the state store does not know, and reads
listing pages only down to what the last *completed* run had listed, less the
``LISTING_OVERLAP`` window (pieces published late with an earlier time). A run
that was killed or could not read its listing moves nothing, so the next run reads
as far as it needs to; with no completed run yet, ``pages`` is the only bound.
``-a refresh=1`` re-fetches stored articles too, so upstream edits are picked up.
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
from crawler.spiders.base import ArticleSpider, flag
from pipelines.article import Article


def parse_since(value: str, timezone: str) -> int:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` in the site's zone, as unix seconds."""
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return int(datetime.strptime(value, fmt).replace(tzinfo=ZoneInfo(timezone)).timestamp())
        except ValueError:
            continue
    raise ValueError(f"since={value!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM")


def detail_request(api_base: str, article_id: str, **kwargs: Any) -> Request:
    """The API request for one article's detail; the caller gives callback and errback."""
    return Request(
        source.detail_url(api_base, article_id),
        headers=source.HEADERS,
        meta={"article_url": source.article_url(article_id)},
        **kwargs,
    )


def parse_detail(response: Response) -> Article:
    """The article of a detail answer (raises SourceError)."""
    return source.article_from_detail(source.envelope_data(response.body))


class WallstreetcnSpider(ArticleSpider):
    name = source.SOURCE

    def __init__(self, pages: str | int = 1, since: str = "", refresh: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.pages = int(pages)
        if self.pages < 1:
            raise ValueError(f"pages={pages!r} must be at least 1")
        self.since_arg = since
        self.refresh = flag(refresh)
        self.seen: set[str] = set()
        #: display time of the newest item this run listed (becomes the listing mark if it finishes)
        self.newest_listed: int | None = None
        self.reached_mark = False

    @property
    def api_base(self) -> str:
        return self.demo_url or self.settings.get("WALLSTREETCN_API_BASE")

    async def start(self) -> AsyncIterator[Request]:
        self.since = parse_since(self.since_arg, self.settings.get("TIMEZONE")) if self.since_arg else None
        self.overlap = self.settings.getint("LISTING_OVERLAP")
        self.mark = None if self.refresh else self.store.listing_mark(source.SOURCE)
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
        return detail_request(self.api_base, article_id, callback=self.parse_detail, errback=self.request_failed)

    def parse_listing(self, response: Response, page: int) -> Iterator[Request]:
        try:
            items, cursor = source.parse_listing(source.envelope_data(response.body))
        except SourceError as exc:
            outcomes.record_listing_failure(self.crawler, response.url, exc.reason, exc.detail)
            return
        self.crawler.stats.inc_value("listing/pages")
        stored = set() if self.refresh else self.store.known_ids(source.SOURCE, (str(item["id"]) for item in items))
        reached_since = False
        for item in items:
            article_id = str(item["id"])
            url = source.article_url(article_id)
            if article_id in self.seen:
                self.crawler.stats.inc_value("listing/duplicate")
                continue
            self.seen.add(article_id)
            shown = int(item.get("display_time") or 0)
            self.newest_listed = max(self.newest_listed or shown, shown)
            if self.since is not None and shown < self.since:
                reached_since = True
                continue
            if article_id in stored:
                self.skip(url, "stored")
                continue
            reason = source.skip_reason(item)
            if reason:
                self.skip(url, reason, str(item.get("layout", "")) if reason == "layout" else "")
                continue
            yield self.detail_request(article_id)
        oldest = min((int(item.get("display_time") or 0) for item in items), default=0)
        past_overlap = self.mark is not None and oldest < self.mark - self.overlap
        self.reached_mark = self.reached_mark or past_overlap
        if cursor and page < self.pages and not reached_since and not past_overlap:
            yield self.listing_request(cursor, page + 1)
        else:
            why = ("last completed run's listing reached" if past_overlap else "since reached" if reached_since
                   else "end of the listing" if not cursor else "pages limit")
            self.logger.info("Listing done after %d page(s) (%s)", page, why)

    def parse_detail(self, response: Response) -> Iterator[Article]:
        yield from self.article_from(response, parse_detail)

    def closed(self, reason: str) -> None:
        """Move the listing mark, but only for a run that finished reading its listing."""
        listing_failed = any(key.startswith("listing/failed/") for key in self.crawler.stats.get_stats())
        if reason != "finished" or listing_failed or self.newest_listed is None:
            self.logger.info("Listing mark left as it was (run %s%s)", reason, ", listing unreadable" if listing_failed else "")
            return
        if self.mark is not None and not self.reached_mark and self.since is None:
            self.logger.warning(
                "Stopped after %d page(s) before reaching what the last run listed: articles in between may be "
                "missed; raise -a pages or backfill them", self.pages,
            )
        self.store.set_listing_mark(source.SOURCE, self.newest_listed)
