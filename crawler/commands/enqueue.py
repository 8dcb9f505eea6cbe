"""``scrapy enqueue <spider> FILE -s REDIS_URL=…``: push a URL list to a distributed crawl.

The list (one URL or saved page per line, ``-`` for stdin; read and bounded as ``-a urls_file``
reads it, ``crawler.inputs``) goes to the crawl's Redis list for ``<spider>``; every worker of that
spider started without a list of its own (``scrapy crawl backfill -s REDIS_URL=…``) takes lines
from it, one at a time. Lines that are no URL go to the writer as ``bad-line`` failures, so the
run report lists them. Refused in one line (status 1): no ``REDIS_URL``, a spider that reads no
lists, a list refused whole (not a regular file, too large), or Redis unreachable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from crawler import inputs
from crawler.arguments import Refused
from crawler.checks import check_settings
from crawler.outcomes import failure_class


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False  # it crawls nothing (and a refusal stays one line)

    def syntax(self) -> str:
        return "<spider> FILE|- -s REDIS_URL=redis://HOST:PORT/DB"

    def short_desc(self) -> str:
        return "Push a URL list to the workers of a distributed crawl"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 2:
            raise UsageError("give the spider and the list: scrapy enqueue backfill urls.txt")
        name, path = args
        try:
            pushed, bad, key = self.enqueue(name, path)
        except Refused as exc:
            print(f"scrapy enqueue: error: {exc}", file=sys.stderr)
            sys.exit(1)
        print(f"{pushed} line(s) pushed to {key}; {bad} bad line(s) reported to the writer")

    def enqueue(self, name: str, path: str) -> tuple[int, int, str]:
        settings = self.settings
        check_settings(settings)
        if not settings.get("REDIS_URL"):
            raise Refused("scrapy enqueue needs -s REDIS_URL=redis://HOST:PORT/DB (the workers' Redis)")
        loader = get_spider_loader(settings)
        readers = sorted(n for n in loader.list() if any(a.name == "urls_file" for a in getattr(loader.load(n), "arguments", ())))
        if name not in readers:
            raise Refused(f"spider {name!r} is refused (it reads no URL lists); accepted: {', '.join(readers)}")
        maxsize = settings.getint("URL_LIST_MAXSIZE")
        try:
            stream = inputs.open_url_list(path, maxsize)
        except inputs.ListRefused as exc:
            raise Refused(f"list {path!r} is refused ({exc})") from None
        from crawler.distributed.board import Board

        board = Board.from_settings(settings)
        try:
            board.server.ping()
        except Exception as exc:  # noqa: BLE001 - any connection error is the operator's to fix, in one line
            raise Refused(f"setting REDIS_URL={settings.get('REDIS_URL')!r} is refused (no Redis answers: {exc})") from None
        bad = 0

        def lines() -> Iterator[str]:
            nonlocal bad
            for entry in inputs.read_url_list(stream, "stdin" if path == inputs.STDIN else path,
                                              settings.getint("URL_LIST_MAX_LINE"), maxsize):
                if isinstance(entry, inputs.ListFailure):
                    bad += 1
                    board.send("failed", {"url": entry.where, "reason": entry.reason, "detail": entry.detail,
                                          "kind": failure_class(entry.reason)})
                else:
                    yield entry

        with stream:
            pushed = board.push_urls(name, lines())
        return pushed, bad, board.key(name, "urls")
