"""Hosts a run has given up on: nothing more is sent to them, the rest is reported ``not-attempted``.

A host is backed off when it answers anti-crawl verification (the spider says so) or after
``HOST_FAILURE_LIMIT`` consecutive connection failures (DNS, refused, timeout; an HTTP answer of
any status means the host is reachable and resets the count). With the network down, a list of
500 URLs then fails after a handful of attempts instead of retrying every URL with back-off for
an hour. Hosts are ``netloc``s (host and port): a dead service on one port says nothing of another.
"""

from __future__ import annotations

import logging
from collections import Counter

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import ConnectError, DNSLookupError
from twisted.internet.error import TimeoutError as TwistedTimeoutError

logger = logging.getLogger(__name__)

#: Failure reason of URLs a run did not request because their host was backed off.
NOT_ATTEMPTED = "not-attempted"
#: Exceptions that say the host could not be reached at all (not an HTTP status).
CONNECTION_FAILURES = (
    CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError, ConnectError, DNSLookupError,
    TwistedTimeoutError,
)


class HostBackedOff(IgnoreRequest):
    """A request refused because its host was backed off; ``reason`` is its failure name."""

    reason = NOT_ATTEMPTED

    def __init__(self, host: str, why: str):
        super().__init__(f"host {host} backed off ({why}); retry in a later run")


class HostGuard:
    """One run's record of unreachable or refusing hosts (the spider holds it as ``spider.hostguard``)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.limit = crawler.settings.getint("HOST_FAILURE_LIMIT", 5)
        self.failures: Counter[str] = Counter()  #: consecutive connection failures per host
        self.backed_off: dict[str, str] = {}  #: host → why

    def why(self, host: str) -> str | None:
        """Why ``host`` is backed off, or None when it is not."""
        return self.backed_off.get(host)

    def back_off(self, host: str, why: str) -> None:
        """Send ``host`` nothing more this run (a saved file has no host to spare)."""
        if host and host not in self.backed_off:
            self.backed_off[host] = why
            self.crawler.stats.inc_value("hostguard/backed_off")
            logger.warning("Backing off %s (%s): sending it nothing more this run", host, why)

    def connection_failed(self, host: str, error: Exception) -> None:
        self.failures[host] += 1
        if self.limit and self.failures[host] >= self.limit:
            self.back_off(host, f"{self.failures[host]} connection failures in a row, the last {type(error).__name__}")

    def reached(self, host: str) -> None:
        self.failures.pop(host, None)


class HostGuardMiddleware:
    """Downloader middleware enforcing the spider's ``HostGuard``.

    It sits just downloader-side of the retry middleware (so it sees each connection failure
    before a retry is scheduled), and every retry passes through it again: once its host is
    backed off, a retry or any later request fails with ``HostBackedOff`` instead of being sent.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostGuardMiddleware:
        return cls(crawler)

    @property
    def guard(self) -> HostGuard | None:
        return getattr(self.crawler.spider, "hostguard", None)

    def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).netloc
        why = self.guard.why(host) if self.guard and host else None
        if why is not None:
            raise HostBackedOff(host, why)

    def process_response(self, request: Request, response: Response) -> Response:
        if self.guard:
            self.guard.reached(urlparse_cached(request).netloc)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        host = urlparse_cached(request).netloc
        if self.guard and host and isinstance(exception, CONNECTION_FAILURES):
            self.guard.connection_failed(host, exception)
