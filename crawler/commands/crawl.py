"""``scrapy crawl`` that exits with the run's true status (Scrapy's own exits 0 after errors).

The status is the one the run report computed (``pipelines.report``): 0 all
written or deliberately skipped, 3 articles failed, 4 listing unreadable,
5 site repo not updated, 6 another run holds the run lock (``crawler.runlock``);
Scrapy's 1 (crash, bad argument) and 2 (usage) stay. Scrapy's start-up chatter is
demoted before the crawler process logs it (``crawler.logs``).
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.spiders import Spider

from crawler.extensions import EXIT_CODE_STAT
from crawler.logs import quiet_scrapy


class Command(ScrapyCrawlCommand):
    crawler: Crawler | None = None

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        quiet_scrapy()  # before the crawler process exists: it logs the first lines

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        if not self.exitcode and self.crawler is not None:
            self.exitcode = int(self.crawler.stats.get_value(EXIT_CODE_STAT, 0))
