"""WeChat official-account articles from a list of URLs.

    scrapy crawl wechat -a urls=URL[,URL…] | -a urls_file=FILE [-a refresh=1] [-a demo=1]

URLs may be short (``/s/<token>``) or long (``/s?__biz=…``) WeChat links, any URL
serving a saved WeChat page, or ``file://`` paths (plain paths too) to saved pages.
Articles already stored are skipped (``stored``) unless ``-a refresh=1``.
``WechatPages`` holds the page handling so other spiders (backfills) reuse it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scrapy import Request
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import distributed, rawsource
from crawler.arguments import DEMO, REFRESH, URLS_FILE_ACCEPTED, Argument, comma_list, text
from crawler.outbound import DISALLOWED_URL, check_url, list_setting
from crawler.sources import SourceError
from crawler.sources import wechat as source
from crawler.sources.wechat_url import article_identity, is_wechat_url
from crawler.spiders.base import ArticleSpider, GivenUrls
from pipelines.adapters import render_pool
from pipelines.article import Article
from pipelines.render import RenderError

#: Shares followed before giving up (a share of a share is not followed).
MAX_SHARE_HOPS = 1


class WechatPages(ArticleSpider):
    """Fetching and reading WeChat article pages, for any ``ArticleSpider``.

    ``page_request(url)`` makes the request (WeChat URLs are sent to ``WECHAT_BASE``,
    so tests and the demo can serve them locally); ``parse_page`` classifies the
    response and yields the Article, the request for a shared original, or records
    the named failure. An anti-crawl page backs the spider off that host (``self.hostguard``):
    nothing more is sent to it this run, and every URL left is reported ``not-attempted``.
    ``page_requests(urls)`` yields requests for a list, at most
    ``CONCURRENT_REQUESTS_PER_DOMAIN`` outstanding, so a back-off stops the rest; every page
    request ends in ``parse_page``, ``page_failed`` or ``request_gone`` (dropped by Scrapy), which
    release its place.
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.outstanding = 0  #: page requests sent and not yet answered
        self._slot_free: asyncio.Event | None = None

    @property
    def wechat_base(self) -> str:
        return (self.demo_url or self.settings.get("WECHAT_BASE")).rstrip("/")

    def fetch_url(self, url: str) -> str:
        """Where ``url`` is fetched: WeChat links on ``WECHAT_BASE``, anything else as is."""
        if not is_wechat_url(url):
            return url
        base = urlsplit(self.wechat_base)
        parts = urlsplit(url)
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))

    def page_request(self, url: str, via: Iterable[str] = (), hops: int = 0) -> Request:
        """The request for one article page; ``via``: URLs that led here (a share page)."""
        self.outstanding += 1
        return Request(
            self.fetch_url(url),
            headers=source.HEADERS,
            callback=self.parse_page,
            errback=self.page_failed,
            dont_filter=True,  # every page request must reach a callback: the pacing counts them
            meta={"article_url": url, "via": list(via), "share_hops": hops},
        )

    def _done(self) -> None:
        self.outstanding -= 1
        if self._slot_free is not None:
            self._slot_free.set()

    def request_gone(self, request: Request) -> None:
        if request.callback == self.parse_page:
            self._done()

    def host_of(self, url: str) -> str:
        return urlsplit(self.fetch_url(url)).netloc

    def back_off(self, response: Response) -> None:
        host = urlsplit(response.request.url if response.request else response.url).netloc
        self.hostguard.back_off(host, "anti-crawl verification")

    async def page_requests(self, urls: AsyncIterable[str]) -> AsyncIterator[Request]:
        """Requests for ``urls``, paced, once per article (identity, or URL), none for a stored
        article (unless ``refresh``) or to a backed-off host."""
        self._slot_free = asyncio.Event()
        limit = max(1, self.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 1))
        # A worker's requests go to the crawl's queue and any worker may answer them: its own count
        # of outstanding pages would never drop, and waiting on it would hold the crawl open for
        # ever. Per-host delays still apply in each worker's downloader (the request stays in
        # ``inflight`` meanwhile, so the crawl is not done and nobody closes early).
        paced = not distributed.is_worker(self.settings)
        async for url in urls:
            while paced and self.outstanding >= limit:
                self._slot_free.clear()
                await self._slot_free.wait()
            identity = article_identity(url)
            if not self.first_listed(identity or url):
                self.skip(url, "duplicate-url", f"same article as an earlier URL ({identity or url})")
                continue
            if identity and self.stored(url, [f"{source.ALIAS_PREFIX}{identity}"]):
                continue
            if self.is_backed_off(url):
                self.report_not_attempted(url)
                continue
            yield self.page_request(url)

    async def parse_page(self, response: Response) -> AsyncIterator[Article | Request]:
        """Classify the page: its Article (unless stored), a request for the original it shares,
        or a named failure. The page is read in a parse worker (``pipelines.workers``): the crawl's
        own thread only fetches, and keeps the raw source. Its place among the outstanding pages is
        released once it is read: an anti-crawl page backs the host off before the next is sent."""
        url = response.meta.get("article_url", response.url)
        reached_by = [url, *response.meta.get("redirect_urls", []), *response.meta.get("via", [])]
        raw = rawsource.from_response(response, source.SOURCE, {"reached_by": reached_by})
        try:
            read = await render_pool(self.crawler).run(
                source.read_page, raw.body, raw.url, source.text_encoding(raw), self.read_options, reached_by,
            )
        except SourceError as exc:
            if exc.reason == source.ANTI_CRAWL:
                self.back_off(response)
            self.fail(url, exc.reason, exc.detail)
            return
        except RenderError as exc:  # the worker died on it, twice
            self.fail(url, exc.reason, str(exc))
            return
        finally:
            self._done()
        if read.article is None:
            for request in self._follow_share(response, read.share_url):
                yield request
            return
        read.article.raw = raw
        self.crawler.stats.inc_value(f"wechat/page/{read.kind}")
        for article in self.unless_stored(response, [read.article]):
            yield article

    @cached_property
    def read_options(self) -> source.ReadOptions:
        return source.ReadOptions.of(self.settings)

    def _follow_share(self, response: Response, share_url: str) -> Iterator[Request]:
        url = response.meta.get("article_url", response.url)
        hops = response.meta.get("share_hops", 0)
        refused = check_url(share_url, list_setting(self.settings, "SHARE_ALLOWED_HOSTS"))
        if hops >= MAX_SHARE_HOPS:
            self.fail(url, "share-of-share", f"shares {share_url}, itself reached through a share")
        elif refused:
            self.fail(url, DISALLOWED_URL, f"shares {share_url!r}: {refused} (SHARE_ALLOWED_HOSTS)")
        elif self.is_backed_off(share_url):
            self.report_not_attempted(share_url)
        else:
            self.logger.info("%s shares %s; following it", url, share_url)
            self.crawler.stats.inc_value("wechat/page/share")
            yield self.page_request(share_url, via=[url, *response.meta.get("via", [])], hops=hops + 1)

    def page_failed(self, failure: Failure) -> None:
        self._done()
        self.request_failed(failure)


class WechatSpider(GivenUrls, WechatPages):
    name = source.SOURCE
    retry_hint = "retry later with -a urls="
    arguments = (
        *ArticleSpider.arguments,
        DEMO,
        Argument("urls", comma_list, "WeChat article links or saved pages, comma-separated"),
        Argument("urls_file", text, URLS_FILE_ACCEPTED),
        REFRESH,
    )
    required_arguments = (("urls", "urls_file"),)

    async def start(self) -> AsyncIterator[Request]:
        await self.count_given()
        async for request in self.page_requests(self.given_urls()):
            yield request
