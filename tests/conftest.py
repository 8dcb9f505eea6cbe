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
from urllib.parse import parse_qs, urlsplit

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


def free_routes(details: dict[int, Path | str] | None = None) -> dict[str, Any]:
    """``wscn_routes`` with a one-page listing whose items are all written or deliberately skipped (paid)."""
    routes = wscn_routes(details)
    for route in routes["routes"]:
        if route["query"] == {"limit": "30"}:
            route["file"] = str(WSCN / "listing-free.json")
    return routes


def serve(routes: dict[str, Any], tmp: Path, name: str) -> MockServer:
    """A replay server with its own folder ``tmp/name`` (several in one test)."""
    (tmp / name).mkdir(exist_ok=True)
    return MockServer(routes, tmp / name)


@dataclass
class CrawlResult:
    returncode: int
    log: str
    output: Path
    requests: list[str] = field(default_factory=list)  #: filled by tests that ask the server

    def stats(self) -> dict[str, int]:
        """Integer stats of the run, from its report (the log has them only at DEBUG)."""
        return {key: value for key, value in self.report()["stats"].items() if isinstance(value, int)}

    def report(self) -> dict[str, Any]:
        """The JSON run report this run saved (its path is in the run's summary)."""
        path = re.findall(r"\n  report: (\S+\.json)\n", self.log)[-1]
        return json.loads(Path(path).read_text(encoding="utf-8"))

    def files(self) -> dict[str, bytes]:
        return {str(p.relative_to(self.output)): p.read_bytes() for p in sorted(self.output.rglob("*.md"))}


#: Settings every test crawl gets unless it passes its own: the mock servers listen on 127.0.0.1,
#: which crawler.outbound refuses by default.
TEST_CRAWL_SETTINGS = {"ALLOWED_PRIVATE_NETWORKS": '["127.0.0.0/8"]'}


def crawl_command(spider: str, output: Path, *args: str, settings: dict[str, str] | None = None) -> list[str]:
    """The ``scrapy crawl`` command line of ``run_crawl``."""
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-s", f"OUTPUT_DIR={output}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]
    for name, value in (TEST_CRAWL_SETTINGS | (settings or {})).items():
        command += ["-s", f"{name}={value}"]
    for arg in args:
        command += ["-a", arg]
    return command


def run_crawl(spider: str, output: Path, *args: str, settings: dict[str, str] | None = None, timeout: int = 300,
              stdin: str | None = None) -> CrawlResult:
    """``scrapy crawl`` in a subprocess, exactly as a user runs it, writing under ``output``."""
    command = crawl_command(spider, output, *args, settings=settings)
    proc = subprocess.run(command, cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=timeout)
    return CrawlResult(proc.returncode, proc.stdout + proc.stderr, output)


WECHAT = FIXTURES / "wechat"
#: The recorded WeChat pages by the link that serves them. Normal pages and shares by their real
#: URLs; the error pages' real URLs are unknown, so they get made-up tokens.
WECHAT_PAGES = {
    "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw": "wae_normal_01_xuanyuan_code.html.gz",
    "https://mp.weixin.qq.com/s/SbB40tES2MrfoNaIPima5A": "wae_normal_03_yinji_blockquote_qr.html.gz",
    "https://mp.weixin.qq.com/s?__biz=MzIzNDcyMTI5MQ==&mid=2247664546&idx=2&sn=cf3b894cff1fe9892fb0598a40c465fb&chksm=e91364ef142eca992924da1e7efc132a7fe301ebfdf403668e506be0bfada295cee7b112fd20#rd": "wae_normal_c01_jinbang_audio_svg_gif.html.gz",
    "https://mp.weixin.qq.com/s?__biz=MjM5ODAyNTcwMA==&mid=2651788393&idx=1": "wsg_2018_mpvoice_cjrb.html.gz",
    "https://mp.weixin.qq.com/s/JJyPUpHLM2bGvfk5FNvTUA": "wae_imgshare_01_36kr_type8.html.gz",
    "https://mp.weixin.qq.com/s/bRt0seqxnIuoQnASJTU-8w": "wae_share_03_ruanyifeng_js_share_source.html.gz",
    "https://mp.weixin.qq.com/s/fixture_deleted_01": "wae_deleted_01_zh.html.gz",
    "https://mp.weixin.qq.com/s/fixture_violation_01": "wae_violation_01.html.gz",
    "https://mp.weixin.qq.com/s/fixture_unavailable_01": "wae_unavailable_01.html.gz",
    "https://mp.weixin.qq.com/s/fixture_expired_2018": "wsg_2018_link_expired.html.gz",
}


def wechat_route(url: str, file: Path | str) -> dict[str, Any]:
    """A replay route answering WeChat link ``url`` (path and identity query) with ``file``."""
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items() if key in ("__biz", "mid", "idx")}
    return {"path": parts.path, "query": query, "file": str(file)}


def wechat_routes(pages: dict[str, Path | str] | None = None) -> dict[str, Any]:
    """Routes serving every recorded page (``pages`` adds or overrides some)."""
    table = {url: WECHAT / "pages" / name for url, name in WECHAT_PAGES.items()} | (pages or {})
    return {"routes": [wechat_route(url, file) for url, file in table.items()]}
