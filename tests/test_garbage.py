"""The garbage collector tuned while a spider runs (``crawler.garbage``), and put back after."""

from __future__ import annotations

import gc

from scrapy import Spider, signals
from scrapy.utils.test import get_crawler

from crawler.garbage import THRESHOLDS, GarbageCollectorExtension


def test_start_up_is_frozen_and_thresholds_raised_while_the_spider_runs() -> None:
    crawler = get_crawler(Spider)
    extension = GarbageCollectorExtension.from_crawler(crawler)
    before = gc.get_threshold()
    try:
        crawler.signals.send_catch_log(signals.spider_opened, spider=None)
        assert gc.get_threshold() == THRESHOLDS != before
        assert gc.get_freeze_count() > 0
    finally:
        crawler.signals.send_catch_log(signals.spider_closed, spider=None, reason="finished")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    assert extension.before == before
