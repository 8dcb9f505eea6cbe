"""The run report: what one run did to each article, and the exit status it earns.

A run ends with a summary in the log, a JSON report and, when articles failed,
a retry file of their URLs in the format ``scrapy crawl backfill -a urls_file=``
reads, so a failed run is repeated with one command. The exit status is what
cron sees (``scrapy crawl`` on its own exits 0 whatever happened).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.state import utc_now
from pipelines.write import write_atomic

#: everything expected was written, found unchanged, or deliberately skipped
EXIT_OK = 0
#: at least one article failed, or the run stopped before finishing
EXIT_ARTICLES_FAILED = 3
#: a listing page could not be read: the run may have missed articles it never saw
EXIT_LISTING_FAILED = 4
#: files were written but could not be committed or pushed to the site repo
EXIT_PUBLISH_FAILED = 5

WRITTEN_STATUSES = ("new", "updated", "unchanged")


@dataclass
class RunReport:
    spider: str
    started: str = field(default_factory=utc_now)
    finished: str = ""
    finish_reason: str = ""
    #: status ("new", "updated", "unchanged") → [{url, path, title}]
    written: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {s: [] for s in WRITTEN_STATUSES})
    skipped: list[dict[str, str]] = field(default_factory=list)  #: [{url, reason, detail}]
    failed: list[dict[str, str]] = field(default_factory=list)
    listing_failed: list[dict[str, str]] = field(default_factory=list)
    #: {status: "pushed" | "committed" | "nothing" | "failed", commit, detail} when a site repo is set
    publish: dict[str, str] | None = None

    def add_written(self, status: str, url: str, path: str, title: str) -> None:
        self.written[status].append({"url": url, "path": path, "title": title})

    def exit_code(self) -> int:
        if self.listing_failed:
            return EXIT_LISTING_FAILED
        if self.publish and self.publish["status"] == "failed":
            return EXIT_PUBLISH_FAILED
        if self.failed or self.finish_reason != "finished":
            return EXIT_ARTICLES_FAILED
        return EXIT_OK

    def retry_urls(self) -> list[str]:
        """Failed article URLs, each once, in the order they failed."""
        return list(dict.fromkeys(entry["url"] for entry in self.failed))

    def as_dict(self) -> dict[str, Any]:
        return {
            "spider": self.spider,
            "started": self.started,
            "finished": self.finished,
            "finish_reason": self.finish_reason,
            "exit_code": self.exit_code(),
            "counts": {
                **{status: len(entries) for status, entries in self.written.items()},
                "skipped": len(self.skipped),
                "failed": len(self.failed),
                "listing_failed": len(self.listing_failed),
            },
            **self.written,
            "skipped": self.skipped,
            "failed": self.failed,
            "listing_failed": self.listing_failed,
            "publish": self.publish,
        }

    def summary(self) -> str:
        """A few log lines: counts, reasons, and every failure with its URL."""

        def reasons(entries: list[dict[str, str]]) -> str:
            counts = Counter(entry["reason"] for entry in entries)
            return f" ({', '.join(f'{reason} {n}' for reason, n in sorted(counts.items()))})" if counts else ""

        counts = ", ".join(f"{len(self.written[s])} {s}" for s in WRITTEN_STATUSES)
        lines = [
            f"Run summary ({self.spider}, {self.finish_reason}): {counts}, "
            f"{len(self.skipped)} skipped{reasons(self.skipped)}, {len(self.failed)} failed{reasons(self.failed)}, "
            f"{len(self.listing_failed)} listing failure(s); exit status {self.exit_code()}"
        ]
        lines += [f"  listing failed: {e['url']}: {e['reason']} {e['detail']}".rstrip() for e in self.listing_failed]
        lines += [f"  failed: {e['url']}: {e['reason']} {e['detail']}".rstrip() for e in self.failed]
        if self.publish:
            lines.append(f"  site repo: {self.publish['status']} {self.publish.get('commit', '')} {self.publish.get('detail', '')}".rstrip())
        return "\n".join(lines)

    def save(self, folder: Path) -> tuple[Path, Path | None]:
        """Write ``<spider>-<start time>.json`` (and ``….retry.txt`` when articles failed) atomically."""
        stem = f"{self.spider}-{self.started.replace('-', '').replace(':', '').replace('+0000', 'Z')}"
        n = 1
        while (folder / f"{stem}.json").exists():
            n += 1
            stem = f"{stem.split('.')[0]}.{n}"
        retry = None
        if self.failed:
            retry = folder / f"{stem}.retry.txt"
            header = f"# {len(self.retry_urls())} URL(s) that failed in the {self.spider} run of {self.started}\n"
            write_atomic(retry, header + "".join(f"{url}\n" for url in self.retry_urls()))
        report = folder / f"{stem}.json"
        data = self.as_dict() | {"retry_file": str(retry) if retry else None}
        write_atomic(report, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return report, retry
