"""wallstreetcn.com articles from the public JSON API, newest first.

    scrapy crawl wallstreetcn [-a pages=N] [-a since=YYYY-MM-DD[THH:MM]] [-a refresh=1] [-a demo=1]

A scheduled run fetches only articles the state store does not know, and reads
listing pages only down to what the last *completed* run had listed, less the
``LISTING_OVERLAP`` window (pieces published late with an earlier time). A run
that was killed or could not read its listing moves nothing, so the next run reads
as far as it needs to; with no completed run yet, ``pages`` is the only bound.
``-a refresh=1`` re-fetches stored articles too, so upstream edits are picked up.
Articles forgotten with ``scrapy state forget`` are requested first (``crawler/refetch.py``).
An article that failed transiently (network, 5xx) holds the mark below its listing
time, so the next run reaches it again; written ones are then skipped as stored.
``since`` without ``pages`` reads as many pages as it takes; without either, one page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import BaseSettings

from crawler import distributed, outcomes, rawsource
from crawler.arguments import DEMO, REFRESH, Argument, local_time, positive_int
from crawler.refetch import Refetch
from crawler.sources import SourceError, SourceSkip
from crawler.sources import wallstreetcn as source
from crawler.spiders.base import LISTING_PRIORITY, ArticleSpider
from pipelines.adapters import render_config, render_pool
from pipelines.article import Article
from pipelines.render import RenderConfig, RenderError
from pipelines.workers import parsed


def detail_request(api_base: str, article_id: str, **kwargs: Any) -> Request:
    """The API request for one (checked) article id's detail; the caller gives callback and errback."""
    return Request(
        source.detail_url(api_base, article_id),
        headers=source.HEADERS,
        meta={"article_url": source.article_url(article_id), "article_id": article_id},
        **kwargs,
    )


def parse_detail(response: Response, settings: BaseSettings) -> Article:
    """The article of a detail answer, which must be the one requested (raises SourceError), with
    the answer as its raw source (``crawler/rawsource.py``): parsed by the same function a re-render calls."""
    raw = rawsource.from_response(response, source.SOURCE, {"article_id": response.meta.get("article_id")})
    return source.article_from_raw(raw, settings)


class WallstreetcnSpider(ArticleSpider):
    name = source.SOURCE
    arguments = (
        *ArticleSpider.arguments,
        DEMO,
        Argument("pages", positive_int, "a whole number ≥ 1 (default 1; no limit with since)"),
        Argument("since", local_time, "YYYY-MM-DD or YYYY-MM-DDTHH:MM, read in TIMEZONE"),
        REFRESH,
    )

    def __init__(self, pages: int | None = None, since: datetime | None = None, refresh: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        #: listing pages to read at most; None (since without pages): until since is reached
        self.pages = pages if pages is not None else None if since is not None else 1
        self.since_arg = since
        self.refresh = refresh
        self.seen: set[str] = set()
        #: display time of the newest item this run listed (becomes the listing mark if it finishes)
        self.newest_listed: int | None = None
        self.reached_mark = False
        #: publication time of each article this run requested and that has no outcome yet, by article URL
        #: (an outcome removes it: only the articles in flight are kept, whatever the run's length)
        self.requested: dict[str, int] = {}
        #: publication time of the oldest of them that failed transiently (the mark stays below it)
        self.held: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WallstreetcnSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        #: the render config when the worker that parses an answer renders it too (not when the article's
        #: images are localized first: the render stage renders it once they are in its bundle)
        spider.render_config: RenderConfig | None = (
            None if crawler.settings.get("IMAGES_MODE") == "localize" else render_config(crawler))
        crawler.signals.connect(spider.article_failed, signal=outcomes.article_failed)
        for done in (outcomes.article_written, outcomes.article_skipped):
            crawler.signals.connect(spider.article_done, signal=done)
        return spider

    @property
    def api_base(self) -> str:
        return self.demo_url or self.settings.get("WALLSTREETCN_API_BASE")

    async def start(self) -> AsyncIterator[Request]:
        zone = ZoneInfo(self.settings.get("TIMEZONE"))
        self.since = int(self.since_arg.replace(tzinfo=zone).timestamp()) if self.since_arg else None
        self.overlap = self.settings.getint("LISTING_OVERLAP")
        self.mark = None if self.refresh else self.store.listing_mark(source.SOURCE)
        self.refetch = Refetch(self.crawler, self.store, source.SOURCE)
        job = self.job_state()
        if job is not None:  # JOBDIR: what a paused run of this job listed and requested carries over
            self.seen = job.setdefault("seen", self.seen)
            self.requested = job.setdefault("requested", self.requested)
            if job.get("listing_started"):
                self.logger.info("Resuming the paused run: its listing and article requests come from the job's queue")
                return
            job["listing_started"] = True
        for article_id, _ in self.refetch.queued():  # forgotten articles first: the listing may not reach them
            self.refetch.request(source.article_url(article_id), article_id)
            yield self.detail_request(article_id)
        yield self.listing_request()

    def listing_request(self, cursor: str = "", page: int = 1) -> Request:
        return Request(
            source.listing_url(self.api_base, cursor),
            headers=source.HEADERS,
            callback=self.parse_listing,
            errback=self.request_failed,
            cb_kwargs={"page": page},
            meta={"listing": True},
            priority=LISTING_PRIORITY,
        )

    def detail_request(self, article_id: str) -> Request:
        return detail_request(self.api_base, article_id, callback=self.parse_detail, errback=self.request_failed)

    def listing_entries(self, listing_url: str, items: list[Any]) -> Iterator[tuple[str, int, dict[str, Any]]]:
        """Id, time and item of each listing item that names an article; a bad item fails alone
        (reported by its article URL when its id is good, else as ``<listing url>#item-<n>``,
        ``n`` counting from 0 in ``data.items``) and the rest of the page goes on."""
        for n, item in enumerate(items):
            try:
                article_id = source.item_id(item)
            except SourceError as exc:
                self.fail(f"{listing_url}#item-{n}", exc.reason, exc.detail)
                continue
            try:
                shown = source.item_time(item)
            except SourceError as exc:
                if article_id not in self.seen:  # the same bad item on two pages is one failure
                    self.seen.add(article_id)
                    self.fail(source.article_url(article_id), exc.reason, exc.detail)
                continue
            yield article_id, shown, item

    def parse_listing(self, response: Response, page: int) -> Iterator[Request]:
        try:
            items, cursor = source.parse_listing(source.envelope_data(response.body))
        except SourceError as exc:
            outcomes.record_listing_failure(self.crawler, response.url, exc.reason, exc.detail)
            return
        self.crawler.stats.inc_value("listing/pages")
        entries = list(self.listing_entries(response.url, items))
        stored = set() if self.refresh else self.store.known_ids(source.SOURCE, (article_id for article_id, _, _ in entries))
        reached_since = False
        requested: dict[str, int] = {}
        for article_id, shown, item in entries:
            url = source.article_url(article_id)
            if article_id in self.seen:
                self.crawler.stats.inc_value("listing/duplicate")
                continue
            self.seen.add(article_id)
            self.newest_listed = max(self.newest_listed or shown, shown)
            if self.since is not None and shown < self.since:
                reached_since = True
                continue
            if article_id in stored:
                self.skip(url, "stored")
                continue
            if url in self.refetch.requested:  # already asked for, from the refetch queue
                continue
            reason = source.skip_reason(item)
            if reason:
                self.skip(url, reason, str(item.get("layout", "")) if reason == "layout" else "")
                continue
            self.requested[url] = requested[url] = shown
            yield self.detail_request(article_id)
        if entries:  # for a distributed crawl's writer, which moves the mark (crawler.distributed)
            self.crawler.signals.send_catch_log(distributed.listing_read, source=source.SOURCE,
                                                newest=max(shown for _, shown, _ in entries), requested=requested)
        oldest = min((shown for _, shown, _ in entries), default=None)
        past_overlap = self.mark is not None and oldest is not None and oldest < self.mark - self.overlap
        self.reached_mark = self.reached_mark or past_overlap
        if cursor and (self.pages is None or page < self.pages) and not reached_since and not past_overlap:
            yield self.listing_request(cursor, page + 1)
        else:
            why = ("last completed run's listing reached" if past_overlap else "since reached" if reached_since
                   else "end of the listing" if not cursor else "pages limit")
            self.logger.info("Listing done after %d page(s) (%s)", page, why)

    def article_failed(self, url: str, kind: str, **_: Any) -> None:
        """Signal handler: an article of this run's listing that failed transiently holds the
        listing mark below its publication time, so the next run reads down to it again."""
        shown = self.requested.pop(url, None)
        if kind == outcomes.TRANSIENT and shown is not None:
            self.held = shown if self.held is None else min(self.held, shown)

    def article_done(self, url: str, **_: Any) -> None:
        """Signal handler: an article written or skipped no longer holds the listing mark."""
        self.requested.pop(url, None)

    async def parse_detail(self, response: Response) -> AsyncIterator[Article]:
        """The answer's article, parsed (and rendered) in a worker process (``pipelines.workers``):
        the crawl's own thread only fetches, and keeps the raw source."""
        url = response.meta.get("article_url", response.url)
        raw = rawsource.from_response(response, source.SOURCE, {"article_id": response.meta.get("article_id")})
        try:
            article = await render_pool(self.crawler).run(
                parsed, source.parse_answer, (raw.body, raw.context["article_id"]), self.render_config)
        except SourceSkip as exc:
            self.skip(url, exc.reason, exc.detail)
            return
        except SourceError as exc:
            self.fail(url, exc.reason, exc.detail)
            return
        except RenderError as exc:  # the worker died on it, twice
            self.fail(url, exc.reason, str(exc))
            return
        article.raw = raw
        yield article

    def closed(self, reason: str) -> None:
        """Move the listing mark, but only for a run that finished reading its listing."""
        super().closed(reason)
        if distributed.is_worker(self.settings):
            return  # the writer moves it, from what every worker listed
        listing_failed = any(key.startswith("listing/failed/") for key in self.crawler.stats.get_stats())
        if reason != "finished" or listing_failed or self.newest_listed is None:
            self.logger.info("Listing mark left as it was (run %s%s)", reason, ", listing unreadable" if listing_failed else "")
            return
        if self.mark is not None and not self.reached_mark and self.since is None:
            self.logger.warning(
                "Stopped after %d page(s) before reaching what the last run listed: articles in between may be "
                "missed; raise -a pages or backfill them", self.pages,
            )
        if self.held is not None:
            self.logger.info("Listing mark held below %d: an article listed at that time failed transiently", self.held)
        self.store.set_listing_mark(source.SOURCE, self.newest_listed, hold_below=self.held)
