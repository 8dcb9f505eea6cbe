"""Shared test helpers: fixture paths, a replay server in a subprocess, and real ``scrapy crawl`` runs."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.mockserver import MockServer

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
WSCN = FIXTURES / "wallstreetcn"


def fixture_text(relative: str) -> str:
    path = FIXTURES / relative
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")


#: cursor that leads to each recorded listing page after the first
LISTING_CURSORS = {2: "1790653790,1739161877", 3: "1739161876,1739158276"}
DETAILS = {
    3740710: "article-3740710.json",
    3782700: "article-3782700.json",
    3782635: "article-3782635-paid.json",
    3782699: "error-71404.json",
}


def wscn_routes(details: dict[int, Path | str] | None = None) -> dict[str, Any]:
    """Routes replaying the recorded listing pages and detail responses (``details`` overrides some)."""
    listing = "/apiv1/content/articles"
    routes: list[dict[str, Any]] = [
        {"path": listing, "query": {"limit": "30", "cursor": cursor}, "file": str(WSCN / f"listing-page{page}.json")}
        for page, cursor in LISTING_CURSORS.items()
    ]
    routes.append({"path": listing, "query": {"limit": "30"}, "file": str(WSCN / "listing-page1.json")})
    for article_id, name in (DETAILS | (details or {})).items():
        routes.append({"path": f"{listing}/{article_id}", "query": {"extract": "0"}, "file": str(WSCN / name)})
    for route in routes:
        route["require_headers"] = {"Origin": "https://wallstreetcn.com", "Referer": "https://wallstreetcn.com/"}
    return {"routes": routes}


@dataclass
class CrawlResult:
    returncode: int
    log: str
    output: Path
    requests: list[str] = field(default_factory=list)  #: filled by tests that ask the server

    def stats(self) -> dict[str, int]:
        """Integer stats from the final stats dump in the log."""
        dump = self.log.rsplit("Dumping Scrapy stats:", 1)[-1]
        return {key: int(value) for key, value in re.findall(r"'([^']+)': (\d+),?\n", dump)}

    def report(self) -> dict[str, Any]:
        """The JSON run report this run saved (its path is in the run's summary)."""
        path = re.findall(r"\n  report: (\S+\.json)\n", self.log)[-1]
        return json.loads(Path(path).read_text(encoding="utf-8"))

    def files(self) -> dict[str, bytes]:
        return {str(p.relative_to(self.output)): p.read_bytes() for p in sorted(self.output.rglob("*.md"))}


def crawl_command(spider: str, output: Path, *args: str, settings: dict[str, str] | None = None) -> list[str]:
    """The ``scrapy crawl`` command line of ``run_crawl``."""
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-s", f"OUTPUT_DIR={output}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]
    for name, value in (settings or {}).items():
        command += ["-s", f"{name}={value}"]
    for arg in args:
        command += ["-a", arg]
    return command


def run_crawl(spider: str, output: Path, *args: str, settings: dict[str, str] | None = None, timeout: int = 120,
              stdin: str | None = None) -> CrawlResult:
    """``scrapy crawl`` in a subprocess, exactly as a user runs it, writing under ``output``."""
    command = crawl_command(spider, output, *args, settings=settings)
    proc = subprocess.run(command, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=timeout)
    return CrawlResult(proc.returncode, proc.stdout + proc.stderr, output)


@pytest.fixture
def wscn_server(tmp_path: Path):
    with MockServer(wscn_routes(), tmp_path) as server:
        yield server
