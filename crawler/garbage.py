"""Python's cyclic garbage collector, tuned for a crawl's steady state.

A crawl's process holds ~100,000 long-lived objects once it runs (modules, settings, Scrapy's and
Twisted's machinery) and allocates a few thousand short-lived ones per article. With the
interpreter's defaults a collection ran every 700 allocations and every full one walked all the
long-lived objects again: ~1 ms of the crawl's CPU per article (gc.callbacks, 1,200-article
benchmark). Once the spider is open, what start-up left is collected once and frozen (never
examined again: ``gc.freeze``) and young objects are collected every ``THRESHOLDS[0]``
allocations instead. Reference counting frees almost everything at once anyway; only cycles wait
for a collection, and they wait a little longer.
"""

from __future__ import annotations

import gc

from scrapy import signals
from scrapy.crawler import Crawler

#: ``gc.set_threshold`` once the spider is open (the interpreter's defaults: 700, 10, 10)
THRESHOLDS = (20_000, 20, 20)


class GarbageCollectorExtension:
    """Freezes what start-up left and raises the collector's thresholds when the spider opens;
    puts them back when it closes (a process may run more crawls after)."""

    def __init__(self, crawler: Crawler):
        self.before = gc.get_threshold()
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GarbageCollectorExtension:
        return cls(crawler)

    def spider_opened(self) -> None:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*THRESHOLDS)

    def spider_closed(self) -> None:
        gc.set_threshold(*self.before)
        gc.unfreeze()
