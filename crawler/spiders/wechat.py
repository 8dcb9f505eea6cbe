"""WeChat official-account articles from a list of URLs.

    scrapy crawl wechat -a urls=URL[,URL…] | -a urls_file=FILE [-a demo=1]

URLs may be short (``/s/<token>``) or long (``/s?__biz=…``) WeChat links, any URL
serving a saved WeChat page, or ``file://`` paths (plain paths too) to saved pages.
``WechatPages`` holds the page handling so other spiders (backfills) reuse it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scrapy import Request
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler.inputs import GZIP_MAGIC, as_url, decode_saved, saved_page_limit, url_lines
from crawler.outbound import DISALLOWED_URL, check_url, list_setting
from crawler.sources import SourceError
from crawler.sources import wechat as source
from crawler.sources.wechat_url import article_identity, is_wechat_url
from crawler.spiders.base import ArticleSpider
from pipelines.article import Article

#: Failure reason of URLs a run did not request because their host answered anti-crawl verification.
NOT_ATTEMPTED = "not-attempted"
#: Shares followed before giving up (a share of a share is not followed).
MAX_SHARE_HOPS = 1


def read_urls(urls: str = "", urls_file: str = "") -> list[str]:
    """The ``-a urls=`` (comma-separated) and ``-a urls_file=`` (one per line, ``#`` comments) lists."""
    found = [u.strip() for u in urls.split(",")]
    if urls_file:
        found += url_lines(Path(urls_file).read_text(encoding="utf-8").splitlines())
    return [as_url(u) for u in dict.fromkeys(u for u in found if u)]


def page_html(response: Response, limit: int) -> str:
    """The page's HTML, also from a gzipped saved page (gunzipped up to ``limit`` bytes)."""
    if isinstance(response, TextResponse) and response.body[:2] != GZIP_MAGIC:
        return response.text
    return decode_saved(response.body, limit)


class WechatPages(ArticleSpider):
    """Fetching and reading WeChat article pages, for any ``ArticleSpider``.

    ``page_request(url)`` makes the request (WeChat URLs are sent to ``WECHAT_BASE``,
    so tests and the demo can serve them locally); ``parse_page`` classifies the
    response and yields the Article, the request for a shared original, or records
    the named failure. An anti-crawl page backs the spider off that host: nothing
    more is sent to it this run, and every URL left is reported ``not-attempted``.
    ``page_requests(urls)`` yields requests for a list, at most
    ``CONCURRENT_REQUESTS_PER_DOMAIN`` outstanding, so a back-off stops the rest.
    """

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.backed_off: set[str] = set()  #: hosts that answered anti-crawl verification
        self.outstanding = 0  #: page requests sent and not yet answered
        self.not_attempted: list[str] = []
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

    def is_backed_off(self, url: str) -> bool:
        return urlsplit(self.fetch_url(url)).netloc in self.backed_off

    def back_off(self, response: Response) -> None:
        host = urlsplit(response.request.url if response.request else response.url).netloc
        if host and host not in self.backed_off:  # a saved file has no host to spare
            self.backed_off.add(host)
            self.crawler.stats.inc_value("wechat/backed_off_hosts")
            self.logger.warning("Anti-crawl verification from %s: sending it nothing more this run", host)

    def report_not_attempted(self, url: str) -> None:
        self.not_attempted.append(url)
        self.fail(url, NOT_ATTEMPTED, "host answered anti-crawl verification; retry in a later run")

    async def page_requests(self, urls: Iterable[str]) -> AsyncIterator[Request]:
        """Requests for ``urls``, paced, once per article identity, none to a backed-off host."""
        self._slot_free = asyncio.Event()
        limit = max(1, self.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 1))
        seen: set[str] = set()
        for url in urls:
            while self.outstanding >= limit:
                self._slot_free.clear()
                await self._slot_free.wait()
            identity = article_identity(url)
            if identity and identity in seen:
                self.skip(url, "duplicate-url", f"same article as an earlier URL ({identity})")
                continue
            seen.add(identity or url)
            if self.is_backed_off(url):
                self.report_not_attempted(url)
                continue
            yield self.page_request(url)

    def parse_page(self, response: Response) -> Iterator[Article | Request]:
        """Classify the page: its Article, a request for the original it shares, or a named failure."""
        self._done()
        url = response.meta.get("article_url", response.url)
        try:
            page = source.classify(page_html(response, saved_page_limit(self.settings)), response.url)
            if page.kind == source.SHARE:
                yield from self._follow_share(response, page)
                return
            article = source.article_from_page(
                page,
                source=self.settings.get("WECHAT_SOURCE_NAME"),
                junk=self.settings.getdict("WECHAT_JUNK_RULES"),
                reached_by=[url, *response.meta.get("redirect_urls", []), *response.meta.get("via", [])],
            )
        except SourceError as exc:
            if exc.reason == source.ANTI_CRAWL:
                self.back_off(response)
            self.fail(url, exc.reason, exc.detail)
            return
        self.crawler.stats.inc_value(f"wechat/page/{page.kind}")
        yield article

    def _follow_share(self, response: Response, page: source.Page) -> Iterator[Request]:
        url = response.meta.get("article_url", response.url)
        hops = response.meta.get("share_hops", 0)
        refused = check_url(page.share_url, list_setting(self.settings, "SHARE_ALLOWED_HOSTS"))
        if hops >= MAX_SHARE_HOPS:
            self.fail(url, "share-of-share", f"shares {page.share_url}, itself reached through a share")
        elif refused:
            self.fail(url, DISALLOWED_URL, f"shares {page.share_url!r}: {refused} (SHARE_ALLOWED_HOSTS)")
        elif self.is_backed_off(page.share_url):
            self.report_not_attempted(page.share_url)
        else:
            self.logger.info("%s shares %s; following it", url, page.share_url)
            self.crawler.stats.inc_value("wechat/page/share")
            yield self.page_request(page.share_url, via=[url, *response.meta.get("via", [])], hops=hops + 1)

    def page_failed(self, failure: Failure) -> None:
        self._done()
        self.request_failed(failure)

    def log_not_attempted(self) -> None:
        if self.not_attempted:
            self.logger.warning(
                "%d URL(s) not attempted after anti-crawl verification; retry later with -a urls=%s",
                len(self.not_attempted), ",".join(self.not_attempted),
            )


class WechatSpider(WechatPages):
    name = source.SOURCE

    def __init__(self, urls: str = "", urls_file: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.urls = read_urls(urls, urls_file)
        if not self.urls:
            raise ValueError("give the articles with -a urls=URL[,URL…] or -a urls_file=FILE")

    async def start(self) -> AsyncIterator[Request]:
        async for request in self.page_requests(self.urls):
            yield request

    def closed(self, reason: str) -> None:
        self.log_not_attempted()
