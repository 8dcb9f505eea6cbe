"""Requests Scrapy drops without a callback or errback are reported and released; download errors
get kebab-case names (a report never names a failure by a Python class)."""

from __future__ import annotations

import re

from scrapy import Request, Spider, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionLost, ConnectionRefusedError, DNSLookupError, TCPTimedOutError
from twisted.web._newclient import ResponseNeverReceived

from crawler.dropped import DroppedRequestsMiddleware
from crawler.hostguard import HostBackedOff
from crawler.outcomes import error_reason

NAMED = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Pacing(Spider):
    """A spider that counts what it is told is gone."""

    name = "pacing"

    def __init__(self) -> None:
        super().__init__()
        self.gone: list[str] = []

    def request_gone(self, request: Request) -> None:
        self.gone.append(request.url)


def middleware(limit: int = 50) -> tuple[DroppedRequestsMiddleware, Pacing]:
    crawler = get_crawler(Pacing, {"URLLENGTH_LIMIT": limit})
    crawler.spider = spider = Pacing()
    crawler.stats.open_spider()
    return DroppedRequestsMiddleware.from_crawler(crawler), spider


def test_over_long_request_is_reported_and_released() -> None:
    mw, spider = middleware()
    long = Request("https://example.com/" + "x" * 60, meta={"article_url": "https://mp.weixin.qq.com/s/long"})
    short = Request("https://example.com/a")
    assert mw.get_processed_request(short, None) is short
    assert mw.get_processed_request(long, None) is None
    assert spider.gone == [long.url]
    assert mw.crawler.stats.get_value("article/failed/url-too-long") == 1


def test_scheduler_drop_is_reported_and_released() -> None:
    mw, spider = middleware()
    dropped = Request("https://example.com/b", meta={"listing": True})
    mw.crawler.signals.send_catch_log(signal=signals.request_dropped, request=dropped, spider=spider)
    assert spider.gone == [dropped.url]
    assert mw.crawler.stats.get_value("listing/failed/request-dropped") == 1


def test_download_errors_have_kebab_case_names() -> None:
    assert error_reason(DNSLookupError()) == "dns-error"
    assert error_reason(ConnectionRefusedError()) == "connection-refused"
    assert error_reason(TCPTimedOutError()) == "timeout"
    assert error_reason(HostBackedOff("a:80", "dead")) == "not-attempted"
    assert error_reason(ResponseNeverReceived([])) == "response-never-received"
    for error in (ConnectionLost(), IgnoreRequest(), OSError(), ValueError("x")):
        assert NAMED.match(error_reason(error)), error
