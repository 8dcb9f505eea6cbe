"""Progress of long runs: one INFO line every ``PROGRESS_INTERVAL`` seconds.

An article is *done* once it has an outcome (written, unchanged, skipped or
failed: the signals of ``crawler.outcomes``). A spider reading a URL list knows
how many URLs it was given and says so as ``url_total``; then the line has
done/total, the rate and an ETA. A listing run cannot know its total in advance:
its line has what is done, the rate and the listing pages read. Scrapy's own
per-minute LogStats (pages and items) is switched off in favour of this.
"""

from __future__ import annotations

import logging
import time

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.spiders import Spider
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call
from twisted.internet.task import LoopingCall

from crawler import outcomes

logger = logging.getLogger(__name__)


def duration(seconds: float) -> str:
    """``1h02m``, ``3m05s``, ``42s``."""
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def progress_line(done: int, total: int | None, elapsed: float, pages: int) -> str:
    """``Progress: 12/40 article(s) done, 6.0/min, ETA 4m40s`` (or with pages read instead of a total)."""
    rate = done / elapsed * 60 if elapsed > 0 else 0.0
    if total is None:
        return f"Progress: {done} article(s) done, {rate:.1f}/min, {pages} listing page(s) read"
    eta = duration((total - done) / rate * 60) if rate > 0 and total > done else "unknown" if done < total else "0s"
    return f"Progress: {done}/{total} article(s) done, {rate:.1f}/min, ETA {eta}"


class ProgressExtension:
    """Counts article outcomes and logs the progress line on a timer while the spider runs."""

    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.done = 0
        self.started = 0.0
        self.task: AsyncioLoopingCall | LoopingCall | None = None
        for signal in (outcomes.article_written, outcomes.article_skipped, outcomes.article_failed):
            crawler.signals.connect(self.count, signal=signal)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        interval = crawler.settings.getfloat("PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured  # without a message: switched off on purpose
        return cls(crawler, interval)

    def count(self) -> None:
        self.done += 1

    def spider_opened(self, spider: Spider) -> None:
        self.started = time.monotonic()
        self.task = create_looping_call(self.log, spider)
        self.task.start(self.interval, now=False)

    def log(self, spider: Spider) -> None:
        pages = int(self.crawler.stats.get_value("listing/pages", 0))
        logger.info(progress_line(self.done, getattr(spider, "url_total", None), time.monotonic() - self.started, pages))

    def spider_closed(self, spider: Spider) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
