"""``scrapy crawl`` that checks the run first and exits with the run's true status
(Scrapy's own exits 0 after errors).

Before anything starts (no request, no file), ``crawler.checks`` refuses a bad
setting or ``-a`` argument: one line on stderr and status 1.
Otherwise the status is the one the run report computed (``pipelines.report``): 0 all
written or deliberately skipped, 3 articles failed, 4 listing unreadable,
5 site repo not updated, 6 another run holds the run lock (``crawler.runlock``);
Scrapy's 1 (crash) and 2 (usage) stay. Scrapy's start-up chatter is
demoted before the crawler process logs it (``crawler.logs``).
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from scrapy.spiderloader import get_spider_loader
from scrapy.spiders import Spider

from crawler.arguments import Refused
from crawler.checks import check_run
from crawler.extensions import EXIT_CODE_STAT
from crawler.logs import quiet_scrapy


class Command(ScrapyCrawlCommand):
    crawler: Crawler | None = None

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Scrapy's options, then the run's checks, before the crawler process exists (and logs)."""
        super().process_options(args, opts)
        try:
            if len(args) == 1:  # else Scrapy's usage error (status 2)
                check_run(self.settings, self.spider_class(args[0]), opts.spargs)
        except Refused as exc:
            print(f"scrapy crawl: error: {exc}", file=sys.stderr)
            sys.exit(1)
        quiet_scrapy()  # before the crawler process exists: it logs the first lines

    def spider_class(self, name: str) -> type[Spider]:
        loader = get_spider_loader(self.settings)
        if name not in loader.list():
            raise Refused(f"spider {name!r} is refused (no such spider); accepted: {', '.join(sorted(loader.list()))}")
        return loader.load(name)

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        if not self.exitcode and self.crawler is not None:
            self.exitcode = int(self.crawler.stats.get_value(EXIT_CODE_STAT, 0))
