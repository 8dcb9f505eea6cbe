"""Requests Scrapy would drop without a word: each is reported, and its spider told.

Scrapy drops a request without calling its callback or errback when its URL is longer than
``URLLENGTH_LIMIT`` (a spider middleware, logged at INFO only) and when the scheduler refuses
it (a duplicate: the ``request_dropped`` signal). A spider that paces its requests by counting
answers (``WechatPages``) would then wait for ever. Here both become named failures
(``url-too-long``, ``request-dropped``) recorded through ``crawler.outcomes``, and the spider's
``request_gone(request)`` lets it release the request.
"""

from __future__ import annotations

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spidermiddlewares.urllength import UrlLengthMiddleware

from crawler import outcomes

URL_TOO_LONG = "url-too-long"
REQUEST_DROPPED = "request-dropped"


def gone(crawler: Crawler, request: Request, reason: str, detail: str) -> None:
    """Record the dropped ``request`` under the URL the spider knows it by, and tell the spider."""
    url = request.meta.get("article_url", request.url)
    if request.meta.get("listing", False):
        outcomes.record_listing_failure(crawler, url, reason, detail)
    else:
        outcomes.record_failure(crawler, url, reason, detail)
    release = getattr(crawler.spider, "request_gone", None)
    if release is not None:
        release(request)


class DroppedRequestsMiddleware(UrlLengthMiddleware):
    """Scrapy's ``UrlLengthMiddleware`` (replaced by this one in the settings), reporting what it
    drops; it also listens for the scheduler's drops."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DroppedRequestsMiddleware:
        middleware = cls(crawler.settings.getint("URLLENGTH_LIMIT"))  # 0: no limit
        middleware.crawler = crawler
        crawler.signals.connect(middleware.request_dropped, signal=signals.request_dropped)
        return middleware

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if not self.maxlength or len(request.url) <= self.maxlength:
            return request
        self.crawler.stats.inc_value("urllength/request_ignored_count")
        gone(self.crawler, request, URL_TOO_LONG, f"{len(request.url)} characters; URLLENGTH_LIMIT is {self.maxlength}")
        return None

    def request_dropped(self, request: Request) -> None:
        gone(self.crawler, request, REQUEST_DROPPED, f"the scheduler refused {request.url} (a duplicate of an earlier request)")
