"""``scrapy state list|show ID|forget ID [--delete-file]|export-urls|mark [--reset]``: what the state
store (``pipelines/state.py``) and the raw archive (``pipelines/archive.py``) hold, as a table or,
with ``--json``, as JSON. ``--source NAME`` limits ``list``, ``export-urls`` and ``mark``.

An ID is a stored article's id or its ``source:id`` key. A bad subcommand or option, or an
ID nothing is stored under, is refused in one line (status 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.settings import BaseSettings

from crawler.arguments import Refused
from crawler.sources import wallstreetcn
from crawler.spiders.listed import listed_sources
from pipelines import archive
from pipelines.adapters import archive_folder, root_folder, state_file
from pipelines.state import Record, StateStore

SUBCOMMANDS = ("list", "show", "forget", "export-urls", "mark")
NO_RAW_SOURCE = "no raw source"


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "list|show ID|forget ID [--delete-file]|export-urls|mark [--reset] [--source NAME] [--json]"

    def short_desc(self) -> str:
        return "List, show or forget stored articles; export their URLs; show or reset the listing mark"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument("--source", default="", help="only this source (list, export-urls, mark)")
        parser.add_argument("--delete-file", action="store_true", help="forget: also delete the article's file")
        parser.add_argument("--reset", action="store_true", help="mark: forget the listing mark")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            print(state_command(self.settings, args, opts), end="")
        except Refused as exc:
            print(f"scrapy state: error: {exc}", file=sys.stderr)
            self.exitcode = 1


def state_command(settings: BaseSettings, args: Sequence[str], opts: argparse.Namespace) -> str:
    """The output of ``scrapy state <args>``; raises Refused."""
    unknown = [arg for arg in args if arg.startswith("-")]
    if unknown:
        raise Refused(f"option {unknown[0]} is refused (no such option); accepted: --json, --source, --delete-file, --reset")
    if not args or args[0] not in SUBCOMMANDS:
        given = repr(args[0]) if args else "none"
        raise Refused(f"subcommand {given} is refused; accepted: {', '.join(SUBCOMMANDS)}")
    name, rest = args[0], list(args[1:])
    wants_id = name in ("show", "forget")
    if len(rest) != (1 if wants_id else 0):
        raise Refused(f"{name} takes {'one ID' if wants_id else 'no argument'}; given: {' '.join(rest) or 'none'}")
    if opts.delete_file and name != "forget":
        raise Refused("option --delete-file is refused (only forget takes it)")
    if opts.reset and name != "mark":
        raise Refused("option --reset is refused (only mark takes it)")
    path = state_file(settings)
    if not path.exists() and name in ("show", "forget"):
        raise Refused(f"ID {rest[0]!r} is refused (no state at {path})")
    store = StateStore(path) if path.exists() or opts.reset else None
    try:
        view = State(settings, store)
        if name == "list":
            return view.list(opts.source, opts.json)
        if name == "show":
            return view.show(rest[0], opts.json)
        if name == "forget":
            return view.forget(rest[0], opts.delete_file, opts.json)
        if name == "export-urls":
            return view.export_urls(opts.source, opts.json)
        return view.mark(opts.source, opts.reset, opts.json)
    finally:
        if store is not None:
            store.close()


def scheduled_sources() -> set[str]:
    """Sources with scheduled runs that read a listing down to a mark: a forgotten article of theirs
    is queued for the next run (``crawler/refetch.py``); others are fetched again by the next run given it."""
    return {wallstreetcn.SOURCE, *(module.SOURCE for module in listed_sources())}


def table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as aligned text columns under a header line."""
    cells = [list(columns)] + [[str(row[column]) for column in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() + "\n" for line in cells)


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


class State:
    """The state store and raw archive of one output root, as the subcommands show them."""

    def __init__(self, settings: BaseSettings, store: StateStore | None):
        self.store = store
        self.archive = archive_folder(settings)
        self.root = root_folder(settings)
        self.unpublished = set(store.unpublished()) if store else set()

    def records(self, source: str = "") -> list[Record]:
        return list(self.store.records(source or None)) if self.store else []

    def find(self, given: str) -> Record:
        """The article ``given`` (an id or ``source:id`` key) names; refused when none or several."""
        found = [record for record in self.records() if given in (record.key, record.id)]
        if not found:
            raise Refused(f"ID {given!r} is refused (not stored); accepted: a stored id or source:id key (scrapy state list)")
        if len(found) > 1:
            raise Refused(f"ID {given!r} is refused (stored in several sources); accepted: one of {', '.join(r.key for r in found)}")
        return found[0]

    def entry(self, record: Record) -> dict[str, Any]:
        """One article as ``list`` shows it: where its file is, when it was fetched, what is wrong."""
        versions = archive.versions(self.archive, record.key)
        problems = [] if versions else [NO_RAW_SOURCE]
        if not (self.root / record.path).exists():
            problems.append("file missing")
        if record.path in self.unpublished:
            problems.append("unpublished")
        return {
            "source": record.source, "id": record.id, "path": record.path,
            "first_fetched": versions[0].fetched if versions else "-",
            "last_fetched": max(v.last_fetched for v in versions) if versions else "-",
            "status": ", ".join(problems) or "ok",
            "url": record.url, "first_written": record.first_written, "last_changed": record.last_changed,
            "raw_versions": len(versions),
        }

    def list(self, source: str, json_out: bool) -> str:
        entries = [self.entry(record) for record in self.records(source)]
        if json_out:
            return as_json(entries)
        no_raw = sum(NO_RAW_SOURCE in entry["status"] for entry in entries)
        footer = f"{len(entries)} article(s)" + (f", {no_raw} with no raw source (rerender skips them)" if no_raw else "")
        return table(entries, ("source", "id", "path", "first_fetched", "last_fetched", "status")) + footer + "\n"

    def show(self, given: str, json_out: bool) -> str:
        record = self.find(given)
        assert self.store is not None
        shown: dict[str, Any] = {**self.entry(record), "key": record.key, "content_hash": record.content_hash,
                                 "aliases": self.store.aliases_of(record.key)}
        versions = archive.versions(self.archive, record.key)
        shown["raw_sources"] = [{"file": str(v.path), "fetched": v.fetched, "last_fetched": v.last_fetched,
                                 "sha256_prefix": v.sha} for v in versions]
        if versions:
            raw = archive.read(versions[-1].path)
            shown["raw_source"] = {"parser": raw.parser, "url": raw.url, "status": raw.status, "fetched": raw.fetched,
                                   "headers": raw.headers, "bytes": len(raw.body), "sha256": raw.sha256,
                                   "context": raw.context}
        else:
            shown["raw_source"] = None
        if json_out:
            return as_json(shown)
        lines = [f"{key}: {value}" for key, value in shown.items() if key not in ("raw_sources", "raw_source", "aliases")]
        lines.append(f"aliases: {', '.join(shown['aliases']) or '-'}")
        if not versions:
            lines.append(f"raw source: none ({NO_RAW_SOURCE}: stored before raw sources were kept)")
        else:
            lines.append(f"raw source (newest of {len(versions)} version(s)):")
            lines += [f"  {key}: {value}" for key, value in shown["raw_source"].items()]
            lines += [f"  version {v['fetched']} (last fetched {v['last_fetched']}): {v['file']}" for v in shown["raw_sources"]]
        return "\n".join(lines) + "\n"

    def forget(self, given: str, delete_file: bool, json_out: bool) -> str:
        record = self.find(given)
        assert self.store is not None
        queued = record.source in scheduled_sources()
        self.store.forget(record.key, refetch=queued)
        file = self.root / record.path
        deleted = False
        if delete_file and file.exists():
            file.unlink()
            deleted = True
        if json_out:
            return as_json({"forgotten": record.key, "path": record.path, "file_deleted": deleted, "refetch_queued": queued})
        kept = "file deleted" if deleted else "file kept" if file.exists() else "no file"
        when = "its source's next scheduled run fetches it again" if queued else "the next run that meets it fetches it again"
        return f"Forgot {record.key} ({record.path}, {kept}); {when}\n"

    def export_urls(self, source: str, json_out: bool) -> str:
        urls = [record.url for record in self.records(source)]
        if json_out:
            return as_json(urls)
        return "".join(f"{url}\n" for url in urls)

    def mark(self, source: str, reset: bool, json_out: bool) -> str:
        marks = [m for m in (self.store.listing_marks() if self.store else []) if not source or m[0] == source]
        entries = [{"source": name, "newest": datetime.fromtimestamp(newest, timezone.utc).isoformat(),
                    "newest_unix": newest, "completed": completed} for name, newest, completed in marks]
        if reset:
            assert self.store is not None
            self.store.reset_listing_marks(source or None)
            if json_out:
                return as_json({"reset": entries})
            return "".join(f"Reset the listing mark of {e['source']} (was {e['newest']})\n" for e in entries) or "No listing mark to reset\n"
        if json_out:
            return as_json(entries)
        return table(entries, ("source", "newest", "completed")) if entries else "No listing mark (no scheduled run has completed)\n"

