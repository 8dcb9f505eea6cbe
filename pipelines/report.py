"""The run report: what one run did to each article, and the exit status it earns.

A run ends with a summary in the log, a JSON report and, when articles failed
for reasons a later run may not meet again (network, 5xx, anti-crawl: *transient*
failures), a retry file of their URLs in the format ``scrapy crawl backfill -a urls_file=``
reads, so a failed run is repeated with one command. Permanent failures (deleted,
refused, not an article) are reported but left out of the retry file: retrying them
only fails again. The exit status is what cron sees (``scrapy crawl`` on its own
exits 0 whatever happened).

Reports are kept in one folder with ``latest.json`` pointing at the newest, and
pruned by count and age (``prune_reports``), so a job every 15 minutes does not
fill the disk.
"""

from __future__ import annotations

import json
import re
import secrets
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pipelines.state import utc_now
from pipelines.write import write_atomic, write_chunks_atomic

#: everything expected was written, found unchanged, or deliberately skipped
EXIT_OK = 0
#: the run could not start or could not save its report (bad argument or setting)
EXIT_BAD_SETUP = 1
#: at least one article failed, or the run stopped before finishing
EXIT_ARTICLES_FAILED = 3
#: a listing page could not be read: the run may have missed articles it never saw
EXIT_LISTING_FAILED = 4
#: files were written but could not be committed or pushed to the site repo
EXIT_PUBLISH_FAILED = 5
#: another run holds the run lock: this one did nothing
EXIT_LOCKED = 6

WRITTEN_STATUSES = ("new", "updated", "unchanged")
#: failure kinds as the crawler classes them; only transient ones are worth a retry
PERMANENT = "permanent"
TRANSIENT = "transient"
#: name of the pointer to the newest report in the reports folder
LATEST = "latest.json"
#: ``<spider>-<start>[.n].json``: the names ``RunReport.save`` gives
REPORT_NAME = re.compile(r"^(?P<spider>.+)-(?P<stamp>\d{8}T\d{6}Z)(?:\.(?P<n>\d+))?\.json$")
#: setting names whose values are never written out
SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|KEY", re.I)
MASK = "***"
#: ``scheme://user[:password]@`` in a URL
USERINFO = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/?#@\s]+@", re.I)


class Entries:
    """One of the report's per-article lists (entries of text by name), kept as JSON lines in a
    temporary file once past ``IN_MEMORY`` bytes: a report lists every article of its run, and a long
    run must not hold them all in memory. Read back in the order they came, one at a time."""

    IN_MEMORY = 1 << 20

    def __init__(self, entries: Iterable[dict[str, str]] = ()):
        self._file = tempfile.SpooledTemporaryFile(self.IN_MEMORY, mode="w+b")
        self._count = 0
        for entry in entries:
            self.append(entry)

    def append(self, entry: dict[str, str]) -> None:
        self._file.seek(0, 2)
        self._file.write(json.dumps(entry).encode("ascii") + b"\n")  # ASCII escapes: any text comes back as it was
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[dict[str, str]]:
        at = 0
        for _ in range(self._count):  # by position: an append between two entries read does not move the reading
            self._file.seek(at)
            line = self._file.readline()
            at = self._file.tell()
            yield json.loads(line)


@dataclass
class RunReport:
    spider: str
    started: str = field(default_factory=utc_now)
    finished: str = ""
    finish_reason: str = ""
    #: run length in seconds (monotonic clock, so a clock change cannot make it negative)
    duration: float = 0.0
    #: the spider's ``-a`` arguments and the settings that differ from the project's, secrets masked
    arguments: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    pages_read: int = 0  #: listing pages read
    #: status ("new", "updated", "unchanged"; a re-render's "rerendered") → [{url, path, title}]
    written: dict[str, Entries | list[dict[str, str]]] = field(default_factory=lambda: {s: Entries() for s in WRITTEN_STATUSES})
    skipped: Entries | list[dict[str, str]] = field(default_factory=Entries)  #: [{url, reason, detail}]
    failed: Entries | list[dict[str, str]] = field(default_factory=Entries)  #: [{url, reason, detail, kind}]
    listing_failed: list[dict[str, str]] = field(default_factory=list)
    #: images of written articles left remote (``IMAGES_MODE=localize``): [{url, article, reason, detail}]
    images_failed: list[dict[str, str]] = field(default_factory=list)
    #: {status: "pushed" | "committed" | "nothing" | "failed", commit, detail} when a site repo is set
    publish: dict[str, str] | None = None
    #: the crawl's own counters (requests, retries, bytes…), for whoever asks what the run did
    stats: dict[str, Any] = field(default_factory=dict)

    def add_written(self, status: str, url: str, path: str, title: str) -> None:
        self.written.setdefault(status, Entries()).append({"url": url, "path": path, "title": title})  # + "rerendered"

    def add_failed(self, url: str, reason: str, detail: str, kind: str) -> None:
        self.failed.append({"url": url, "reason": reason, "detail": detail, "kind": kind})

    def exit_code(self) -> int:
        if self.listing_failed:
            return EXIT_LISTING_FAILED
        if self.publish and self.publish["status"] == "failed":
            return EXIT_PUBLISH_FAILED
        if self.failed or self.finish_reason != "finished":
            return EXIT_ARTICLES_FAILED
        return EXIT_OK

    def retry_urls(self) -> list[str]:
        """URLs of transient failures, each once, in the order they failed (an unknown kind is retried: never lost)."""
        return list(dict.fromkeys(entry["url"] for entry in self.failed if entry.get("kind") != PERMANENT))

    def failed_by_kind(self) -> dict[str, int]:
        counts = Counter(entry.get("kind") or TRANSIENT for entry in self.failed)
        return {kind: counts[kind] for kind in (PERMANENT, TRANSIENT)}

    def as_dict(self) -> dict[str, Any]:
        return {
            "spider": self.spider,
            "arguments": self.arguments,
            "settings": self.settings,
            "started": self.started,
            "finished": self.finished,
            "duration_seconds": round(self.duration, 3),
            "finish_reason": self.finish_reason,
            "exit_code": self.exit_code(),
            "counts": {
                **{status: len(entries) for status, entries in self.written.items()},
                "skipped": len(self.skipped),
                "failed": len(self.failed),
                "listing_failed": len(self.listing_failed),
            },
            "pages_read": self.pages_read,
            "failed_by_kind": self.failed_by_kind(),
            **self.written,
            "skipped": self.skipped,
            "failed": self.failed,
            "listing_failed": self.listing_failed,
            "images_failed": self.images_failed,
            "publish": self.publish,
            "stats": self.stats,
        }

    def summary(self) -> str:
        """The first line of the run's summary: counts per status and reason, and the exit status."""

        def reasons(entries: list[dict[str, str]]) -> str:
            counts = Counter(entry["reason"] for entry in entries)
            return f" ({', '.join(f'{reason} {n}' for reason, n in sorted(counts.items()))})" if counts else ""

        counts = ", ".join(f"{len(entries)} {status}" for status, entries in self.written.items())
        kinds = self.failed_by_kind()
        failed = f"{len(self.failed)} failed{reasons(self.failed)}"
        if self.failed:
            failed += f" [{kinds[TRANSIENT]} transient, {kinds[PERMANENT]} permanent]"
        line = (
            f"Run summary ({self.spider}, {self.finish_reason}, {self.duration:.0f}s): {counts}, "
            f"{len(self.skipped)} skipped{reasons(self.skipped)}, {failed}, "
            f"{len(self.listing_failed)} listing failure(s), {self.pages_read} listing page(s) read"
        )
        if self.images_failed:
            line += f"; {len(self.images_failed)} image(s) left remote{reasons(self.images_failed)}"
        if self.publish:
            line += f"; site repo {' '.join(filter(None, self.publish.values()))}"
        return line

    def stem(self) -> str:
        return f"{self.spider}-{self.started.replace('-', '').replace(':', '').replace('+0000', 'Z')}"

    def save(self, folder: Path) -> tuple[Path, Path | None]:
        """Write ``<spider>-<start time>.json`` (and ``….retry.txt`` when transient failures
        can be retried) atomically, then point ``latest.json`` at it."""
        stem = base = self.stem()
        n = 1
        while (folder / f"{stem}.json").exists():
            n += 1
            stem = f"{base}.{n}"
        retry = None
        urls = self.retry_urls()
        if urls:
            retry = folder / f"{stem}.retry.txt"
            header = f"# {len(urls)} URL(s) that failed (transiently) in the {self.spider} run of {self.started}\n"
            write_atomic(retry, header + "".join(f"{url}\n" for url in urls))
        report = folder / f"{stem}.json"
        data = self.as_dict() | {"retry_file": str(retry) if retry else None}
        write_chunks_atomic(report, json_chunks(data))
        latest = {"report": report.name, "retry_file": retry.name if retry else None, "spider": self.spider,
                  "finished": self.finished, "exit_code": self.exit_code()}
        write_atomic(folder / LATEST, json.dumps(latest, ensure_ascii=False, indent=2) + "\n")
        return report, retry


def json_chunks(data: dict[str, Any]) -> Iterator[str]:
    """``json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\\n"``, piece by piece: a top-level
    ``Entries`` value is written an entry at a time, never all in memory."""
    markers: dict[str, Entries] = {}
    plain = {}
    for name, value in data.items():
        if isinstance(value, Entries):
            marker = f"\x00{secrets.token_hex(16)}\x00"
            markers[json.dumps(marker)] = value
            value = marker
        plain[name] = value
    text = json.dumps(plain, ensure_ascii=False, indent=2, default=str) + "\n"
    if not markers:
        yield text
        return
    pattern = re.compile("|".join(re.escape(m) for m in markers))
    at = 0
    for match in pattern.finditer(text):
        yield text[at : match.start()]
        yield from _entries_json(markers[match.group()])
        at = match.end()
    yield text[at:]


def _entries_json(entries: Entries) -> Iterator[str]:
    """A top-level value's list as ``json.dumps(indent=2)`` lays it out at depth 1."""
    if not entries:
        yield "[]"
        return
    yield "["
    for n, entry in enumerate(entries):
        lines = json.dumps(entry, ensure_ascii=False, indent=2, default=str).split("\n")
        yield ("," if n else "") + "\n" + "\n".join(f"    {line}" for line in lines)
    yield "\n  ]"


def prune_reports(folder: Path, spider: str, keep: int, max_age_days: float, now: datetime | None = None) -> list[Path]:
    """Remove ``spider``'s reports (and their retry files) beyond the newest ``keep`` or
    started more than ``max_age_days`` ago (0 turns either limit off). The newest
    report always stays: ``latest.json`` points at it. Returns the reports removed."""
    found = []
    for path in folder.glob(f"{spider}-*.json"):
        match = REPORT_NAME.match(path.name)
        if match and match["spider"] == spider:
            started = datetime.strptime(match["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
            found.append((started, int(match["n"] or 1), path))
    found.sort(reverse=True)
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=max_age_days)
    removed = []
    for index, (started, _, path) in enumerate(found):
        if index == 0:
            continue
        if (keep and index >= keep) or (max_age_days and started < cutoff):
            path.with_suffix(".retry.txt").unlink(missing_ok=True)
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def mask_url(value: str) -> str:
    """``value`` with the user information of every URL in it masked (``https://***@host/…``)."""
    return USERINFO.sub(rf"\1{MASK}@", value)


def masked(name: str, value: Any) -> Any:
    """A setting or argument value safe to write into a report: secrets by name, credentials in URLs."""
    if SECRET_NAME.search(name):
        return MASK
    if isinstance(value, str):
        return mask_url(value)
    if isinstance(value, Mapping):
        return {str(k): masked(str(k), v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [masked(name, v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def masked_all(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every entry of ``values`` masked, in name order (the report's key order is deterministic)."""
    return {name: masked(name, values[name]) for name in sorted(values)}
