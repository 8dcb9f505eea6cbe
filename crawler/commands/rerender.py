"""``scrapy rerender [--source NAME] [--dry-run] [ID …]``: every stored article (or those named)
rendered again from its kept raw source by today's parsers and pipelines, with no network.

Only files whose bytes change are rewritten; ``lastmod`` stays as recorded (a format change is
no upstream edit). The run is a crawl of ``crawler.rerender.RerenderSpider``: the same checks
(a bad option or setting: one line, status 1), run lock, report and exit status as ``crawl``,
and with ``SITE_REPO`` one commit saying it was a re-render. ``--dry-run`` writes nothing (no
file, state, report of changes to the site repo) and prints the files that would change, with a
unified diff.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from typing import TextIO

from scrapy.commands import ScrapyCommand
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from crawler.arguments import Refused
from crawler.checks import check_run
from crawler.extensions import EXIT_CODE_STAT
from crawler.logs import quiet_scrapy
from crawler.rerender import RerenderSpider
from pipelines import rerender
from pipelines.adapters import state_file
from pipelines.state import StateStore


class Command(ScrapyCommand):
    requires_project = True
    crawler: Crawler | None = None

    def syntax(self) -> str:
        return "[--source NAME] [--dry-run] [ID|SOURCE:ID ...]"

    def short_desc(self) -> str:
        return "Render stored articles again from their raw sources (no network)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--source", default="", help="only the articles of this source")
        parser.add_argument("--dry-run", action="store_true", help="write nothing; print the files that would change and their diff")

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        self.spargs = {"dry_run": "1" if opts.dry_run else "0"}
        if opts.source:
            self.spargs["source"] = opts.source
        if args:
            self.spargs["ids"] = ",".join(args)
        try:
            check_run(self.settings, RerenderSpider, self.spargs)
            check_selection(self.settings, opts.source, args)
        except Refused as exc:
            print(f"scrapy rerender: error: {exc}", file=sys.stderr)
            sys.exit(1)
        if opts.dry_run:  # nothing is written, so nothing goes to the site repo either
            extensions = self.settings.getdict("EXTENSIONS")
            self.settings.set("EXTENSIONS", {**extensions, "crawler.extensions.PublishExtension": None}, priority="cmdline")
        quiet_scrapy()

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.crawler_process is not None
        self.crawler = self.crawler_process.create_crawler(RerenderSpider)
        changes = DiffSpool()
        self.crawler.signals.connect(changes.add, signal=rerender.would_change, weak=False)
        self.crawler_process.crawl(self.crawler, **self.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        self.exitcode = int(self.crawler.stats.get_value(EXIT_CODE_STAT, 0))
        if opts.dry_run:
            changes.print_summary(sys.stdout)
        changes.close()


def check_selection(settings: BaseSettings, source: str, ids: list[str]) -> None:
    """Refuse an option that names nothing stored: an unknown source, an id the state does not hold."""
    for item in ids:
        if item.startswith("-"):
            raise Refused(f"option {item} is refused (no such option); accepted: --source NAME, --dry-run, ids")
    path = state_file(settings)
    found: set[str] = set()
    stored: set[str] = set()
    if path.exists():
        store = StateStore(path)
        try:
            for record in store.records():  # streamed: only the sources and the ids asked for are kept
                stored.add(record.source)
                found.update({record.id, record.key} & set(ids))
        finally:
            store.close()
    where = "" if path.exists() else f"; no state at {path}"
    sources = sorted(stored)
    if source and source not in sources:
        raise Refused(f"option --source={source!r} is refused (no article of it is stored{where}); accepted: {', '.join(sources) or 'none stored'}")
    missing = [item for item in ids if item not in found]
    if missing:
        raise Refused(f"id {missing[0]!r} is refused (not stored{where}); accepted: stored ids or source:id keys (scrapy state list)")


class DiffSpool:
    """A dry run's changes: paths and line counts in memory, diffs in a temporary file, since a
    re-render of a whole store may change every file (and its diffs need not fit in memory)."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()
        self.changes: list[tuple[str, str, int, int]] = []  #: path, stat, offset, length of the diff

    def add(self, change: rerender.Change) -> None:
        data = change.diff.encode("utf-8", errors="surrogateescape")
        offset = self.file.seek(0, io.SEEK_END)
        self.file.write(data)
        self.changes.append((change.path, change.stat, offset, len(data)))

    def print_summary(self, out: TextIO) -> None:
        """Which files would be rewritten (with their line counts), then their unified diffs."""
        if not self.changes:
            print("Dry run: no file would change.", file=out)
            return
        changes = sorted(self.changes)
        print(f"Dry run: {len(changes)} file(s) would be rewritten:", file=out)
        for path, stat, _, _ in changes:
            print(f"  {path} ({stat})", file=out)
        print(file=out)
        for _, _, offset, length in changes:
            self.file.seek(offset)
            out.write(self.file.read(length).decode("utf-8", errors="surrogateescape"))
        print(file=out)

    def close(self) -> None:
        self.file.close()
