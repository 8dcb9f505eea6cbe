"""``scrapy writer -s REDIS_URL=… -s OUTPUT_DIR=…``: the one process that writes a distributed
crawl's articles (``crawler.writer``), with the run's exit status like ``crawl``.

Refused in one line (status 1) without ``REDIS_URL``, when Redis cannot be reached, or on any bad
setting (``crawler.checks``); status 6 when another writer of the same crawl is alive.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.spiders import Spider

from crawler.arguments import Refused
from crawler.checks import check_run
from crawler.commands.crawl import Command as CrawlCommand
from crawler.logs import quiet_scrapy
from pipelines.report import EXIT_LOCKED


class Command(CrawlCommand):
    def syntax(self) -> str:
        return "-s REDIS_URL=redis://HOST:PORT/DB [options]"

    def short_desc(self) -> str:
        return "Write the articles the workers of a distributed crawl hand in (one writer per crawl)"

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super(CrawlCommand, self).process_options(args, opts)
        try:
            if args:
                raise UsageError("scrapy writer takes no spider: the workers are `scrapy crawl <spider> -s REDIS_URL=…`")
            from crawler.writer import WriterSpider

            check_run(self.settings, WriterSpider, opts.spargs)
            if not self.settings.get("REDIS_URL"):
                raise Refused("scrapy writer needs -s REDIS_URL=redis://HOST:PORT/DB (the workers' Redis)")
            from crawler.distributed.board import Board

            try:
                alive = Board.from_settings(self.settings).writer_alive()
            except Exception as exc:  # noqa: BLE001 - any connection error is the operator's to fix, in one line
                raise Refused(f"setting REDIS_URL={self.settings.get('REDIS_URL')!r} is refused (no Redis answers: {exc})") from None
        except Refused as exc:
            print(f"scrapy writer: error: {exc}", file=sys.stderr)
            sys.exit(1)
        if alive:
            print("scrapy writer: another writer of this crawl is running (one writer per crawl)", file=sys.stderr)
            sys.exit(EXIT_LOCKED)
        quiet_scrapy()

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        from crawler.writer import WriterSpider

        return super()._create_crawler(WriterSpider)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(["writer"], opts)
