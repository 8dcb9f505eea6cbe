"""A spider for every listed source module (``crawler.sources.listed``): listing, details, and the
incremental rules of wallstreetcn's spider.

    scrapy crawl infoq|pingwest [-a pages=N] [-a since=YYYY-MM-DD[THH:MM]] [-a refresh=1] [-a demo=1]

A scheduled run fetches only articles the state does not hold, and reads listing pages only
down to what the last *completed* run listed, less ``LISTING_OVERLAP`` seconds; a run killed
or unable to read its listing moves nothing. An article that failed transiently holds the
mark below its listing time. ``since`` without ``pages`` reads as many pages as it takes.
Articles forgotten with ``scrapy state forget`` are requested first (``crawler/refetch.py``).
One class is built per module of ``crawler/sources/`` that sets ``LISTED_SOURCE = True``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import datetime
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

import crawler.sources
from crawler import outcomes, rawsource
from crawler.arguments import DEMO, REFRESH, Argument, local_time, positive_int
from crawler.refetch import Refetch
from crawler.sources import SourceError, listed
from crawler.sources.listed import Fetch
from crawler.spiders.base import LISTING_PRIORITY, ArticleSpider
from pipelines.article import Article


class ListedSpider(ArticleSpider):
    """Base of the listed sources' spiders; ``source`` is the source module."""

    source: ModuleType
    arguments = (
        *ArticleSpider.arguments,
        DEMO,
        Argument("pages", positive_int, "a whole number ≥ 1 (default 1; no limit with since)"),
        Argument("since", local_time, "YYYY-MM-DD or YYYY-MM-DDTHH:MM, read in TIMEZONE"),
        REFRESH,
    )

    def __init__(self, pages: int | None = None, since: datetime | None = None, refresh: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.pages = pages if pages is not None else None if since is not None else 1
        self.since_arg = since
        self.refresh = refresh
        self.seen: set[str] = set()
        self.newest_listed: int | None = None
        self.reached_mark = False
        #: listing time of each article this run requested, by article URL
        self.requested: dict[str, int] = {}
        self.held: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ListedSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.article_failed, signal=outcomes.article_failed)
        return spider

    @property
    def base(self) -> str:
        return self.demo_url or self.settings.get(self.source.BASE_SETTING)

    async def start(self) -> AsyncIterator[Request]:
        zone = ZoneInfo(self.settings.get("TIMEZONE"))
        self.since = int(self.since_arg.replace(tzinfo=zone).timestamp()) if self.since_arg else None
        self.overlap = self.settings.getint("LISTING_OVERLAP")
        self.mark = None if self.refresh else self.store.listing_mark(self.source.SOURCE)
        self.refetch = Refetch(self.crawler, self.store, self.source.SOURCE)
        job = self.job_state()
        if job is not None:  # JOBDIR: what a paused run listed and requested carries over
            self.seen = job.setdefault("seen", self.seen)
            self.requested = job.setdefault("requested", self.requested)
            if job.get("listing_started"):
                self.logger.info("Resuming the paused run: its listing and article requests come from the job's queue")
                return
            job["listing_started"] = True
        for article_id, data in self.refetch.queued():  # forgotten articles first: the listing may not reach them
            url = self.source.article_url(article_id)
            self.refetch.request(url, article_id)
            fetch = self.source.detail_request(self.base, article_id)
            yield self.fetch_request(replace(fetch, data={**fetch.data, **data, "id": article_id}), url)
        yield self.listing_request()

    def request(self, fetch: Fetch, **kwargs: Any) -> Request:
        return Request(fetch.url, method=fetch.method, body=fetch.body or None, headers=fetch.headers, **kwargs)

    def listing_request(self, cursor: str = "", page: int = 1) -> Request:
        return self.request(self.source.listing_request(self.base, cursor), callback=self.parse_listing,
                            errback=self.request_failed, cb_kwargs={"page": page}, meta={"listing": True},
                            priority=LISTING_PRIORITY)

    def fetch_request(self, fetch: Fetch, article_url: str, context: dict[str, Any] | None = None) -> Request:
        """The request of ``fetch``; ``context``: its answer's raw source context (``listed.replay``),
        a new chain's when None."""
        meta = {"article_url": article_url, "raw_context": context or listed.fetch_context(fetch)}
        return self.request(fetch, callback=self.parse_detail, errback=self.request_failed, meta=meta)

    def listing_entries(self, listing_url: str, items: list[Any]) -> Iterator[tuple[str, int, Any]]:
        """Id, time and item of each listing item; a bad item fails alone (by its article URL when its
        id is good, else ``<listing url>#item-<n>``) and the rest of the page goes on."""
        for n, item in enumerate(items):
            try:
                article_id = self.source.item_id(item)
            except SourceError as exc:
                self.fail(f"{listing_url}#item-{n}", exc.reason, exc.detail)
                continue
            try:
                shown = self.source.item_time(item)
            except SourceError as exc:
                if article_id not in self.seen:
                    self.seen.add(article_id)
                    self.fail(self.source.article_url(article_id), exc.reason, exc.detail)
                continue
            yield article_id, shown, item

    def parse_listing(self, response: Response, page: int) -> Iterator[Request]:
        try:
            items, cursor = self.source.parse_listing(response.body)
        except SourceError as exc:
            outcomes.record_listing_failure(self.crawler, response.url, exc.reason, exc.detail)
            return
        self.crawler.stats.inc_value("listing/pages")
        entries = list(self.listing_entries(response.url, items))
        stored = set() if self.refresh else self.store.known_ids(self.source.SOURCE, (i for i, _, _ in entries))
        reached_since = False
        for article_id, shown, item in entries:
            url = self.source.article_url(article_id)
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
            reason = self.source.skip_reason(item)
            if reason:
                self.skip(url, reason)
                continue
            self.requested[url] = shown
            fetch = self.source.detail_request(self.base, article_id)
            yield self.fetch_request(replace(fetch, data={**fetch.data, "id": article_id, "time": shown}), url)
        oldest = min((shown for _, shown, _ in entries), default=None)
        past_overlap = self.mark is not None and oldest is not None and oldest < self.mark - self.overlap
        self.reached_mark = self.reached_mark or past_overlap
        if cursor and (self.pages is None or page < self.pages) and not reached_since and not past_overlap:
            yield self.listing_request(cursor, page + 1)
        else:
            why = ("last completed run's listing reached" if past_overlap else "since reached" if reached_since
                   else "end of the listing" if not cursor else "pages limit")
            self.logger.info("Listing done after %d page(s) (%s)", page, why)

    def parse_detail(self, response: Response) -> Iterator[Article | Request]:
        """The article of an answer, with the answer as its raw source (``crawler/rawsource.py``), or
        the chain's next request: parsed by the same function a re-render calls (``listed.replay``)."""
        url = response.meta["article_url"]
        context = response.meta["raw_context"]
        raw = rawsource.from_response(response, self.source.SOURCE, context)
        try:
            result = listed.replay(self.source.parse_detail, raw)
        except SourceError as exc:
            self.fail(url, exc.reason, exc.detail)
            return
        if isinstance(result, Fetch):
            yield self.fetch_request(result, url, listed.next_context(context, response.body, response.url))
        else:
            yield result

    def article_failed(self, url: str, kind: str, **_: Any) -> None:
        """Signal handler: a transient failure holds the listing mark below the article's listing time."""
        shown = self.requested.get(url)
        if kind == outcomes.TRANSIENT and shown is not None:
            self.held = shown if self.held is None else min(self.held, shown)

    def closed(self, reason: str) -> None:
        """Move the listing mark, but only for a run that finished reading its listing."""
        super().closed(reason)
        listing_failed = any(key.startswith("listing/failed/") for key in self.crawler.stats.get_stats())
        if reason != "finished" or listing_failed or self.newest_listed is None:
            self.logger.info("Listing mark left as it was (run %s%s)", reason, ", listing unreadable" if listing_failed else "")
            return
        if self.mark is not None and not self.reached_mark and self.since is None:
            self.logger.warning(
                "Stopped after %d page(s) before reaching what the last run listed: articles in between may be "
                "missed; raise -a pages or backfill them", self.pages,
            )
        self.store.set_listing_mark(self.source.SOURCE, self.newest_listed, hold_below=self.held)


def listed_sources() -> list[ModuleType]:
    """The modules of ``crawler/sources/`` that declare ``LISTED_SOURCE = True``, by name."""
    modules = (importlib.import_module(f"crawler.sources.{info.name}") for info in pkgutil.iter_modules(crawler.sources.__path__))
    return sorted((m for m in modules if getattr(m, "LISTED_SOURCE", False)), key=lambda m: m.SOURCE)


for _module in listed_sources():
    _name = f"{_module.SOURCE.title().replace('_', '')}Spider"
    globals()[_name] = type(_name, (ListedSpider,), {"name": _module.SOURCE, "source": _module, "__module__": __name__,
                                                     "__doc__": f"{_module.SOURCE}: {(_module.__doc__ or '').splitlines()[0]}"})
