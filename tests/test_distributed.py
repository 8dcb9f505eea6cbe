"""Distributed runs against a real ``redis-server`` (Debian's package; ``.ci/run`` installs it):
``scrapy crawl wallstreetcn -s REDIS_URL=…`` started several times are workers of one crawl and
``scrapy writer`` writes; the files are byte for byte those of a single-process run, each written
once, also when a worker or the writer is killed with SIGKILL midway.

The listing is synthetic (hand-made from a real recording): 1,000 articles on 34 listing pages,
each detail a copy of the recorded answer for article 3782700 (as the benchmarks do) under its own id and time.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import ROOT, WSCN, MockServer, crawl_command, run_crawl, wechat_routes, wscn_routes
from tests.test_distributed_codec import Boom

ARTICLES = 1000
PER_PAGE = 30
FIRST_ID = 6_000_001
NEWEST = 1_788_220_800  # 2026-09-01 UTC; each article a minute older than the one before
LISTING = "/apiv1/content/articles"
POSTS = "content/posts/wallstreetcn"


def synthetic_routes(folder: Path, articles: int) -> dict[str, Any]:
    """Replay routes of a listing of ``articles`` articles (pages of 30 chained by cursors ``c1``,
    ``c2``…) and a detail answer each (written to ``folder``)."""
    detail = json.loads((WSCN / "article-3782700.json").read_text(encoding="utf-8"))
    detail["data"]["content"] = "</p>".join(detail["data"]["content"].split("</p>")[:6]) + "</p>"
    ids = [FIRST_ID + n for n in range(articles)]
    pages = [ids[start : start + PER_PAGE] for start in range(0, articles, PER_PAGE)]
    routes: list[dict[str, Any]] = []
    for n, chunk in enumerate(pages):
        items = [{"id": i, "layout": "wscn-layout", "display_time": NEWEST - 60 * (i - FIRST_ID), "is_priced": False} for i in chunk]
        body = {"code": 20000, "message": "OK", "data": {"items": items, "next_cursor": f"c{n + 1}" if n + 1 < len(pages) else ""}}
        name = f"listing-{n}.json"
        (folder / name).write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        routes.append({"path": LISTING, "query": {"limit": "30", "cursor": f"c{n}"} if n else {"limit": "30"}, "file": name})
    routes.sort(key=lambda route: "cursor" not in route["query"])  # a route matches on the parameters it lists
    for i in ids:
        data = dict(detail["data"], id=i, display_time=NEWEST - 60 * (i - FIRST_ID))
        (folder / f"{i}.json").write_text(json.dumps({"code": 20000, "message": "OK", "data": data}, ensure_ascii=False), encoding="utf-8")
        routes.append({"path": f"{LISTING}/{i}", "query": {"extract": "0"}, "file": f"{i}.json"})
    return {"routes": routes}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory):
    """A real redis-server on a free port, in memory only, for this module."""
    server = shutil.which("redis-server")
    assert server, "redis-server is missing: .ci/run installs Debian's redis-server package"
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("api")
    with MockServer(synthetic_routes(folder, ARTICLES), folder) as server:
        yield server


#: output folder of each single-process run's files (by the dict's id)
_OUTPUTS: dict[int, Path] = {}


@pytest.fixture(scope="module")
def single_process(api: MockServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The files of the same crawl in one process, as today."""
    output = tmp_path_factory.mktemp("single")
    result = run_crawl("wallstreetcn", output, "pages=40", settings={"WALLSTREETCN_API_BASE": api.url}, timeout=600)
    assert result.returncode == 0, result.log[-3000:]
    files = result.files()
    assert len(files) == ARTICLES
    _OUTPUTS[id(files)] = output
    return files


def single_process_output(files: dict[str, bytes]) -> Path:
    return _OUTPUTS[id(files)]


def listing_mark(output: Path) -> int | None:
    """The wallstreetcn listing mark the state under ``output`` holds."""
    db = sqlite3.connect(output / ".state" / "state.sqlite3")
    try:
        row = db.execute("SELECT newest FROM listing_marks WHERE source = 'wallstreetcn'").fetchone()
    finally:
        db.close()
    return row[0] if row else None


def listing_requests(api: MockServer) -> Counter[str]:
    return Counter(path for path in api.requests() if path.startswith(f"{LISTING}?"))


class Crawl:
    """The processes of one distributed crawl (own key prefix), their logs in files."""

    def __init__(self, api: MockServer, redis_url: str, tmp: Path, prefix: str):
        tmp.mkdir(exist_ok=True)
        self.output = tmp / "out"
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.settings = {"WALLSTREETCN_API_BASE": api.url, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix,
                         "MAX_IDLE_TIME_BEFORE_CLOSE": "1", "REDIS_WORKER_TIMEOUT": "3"}
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = self.logs / f"{name}.log"
        with log.open("wb") as fh:
            proc = subprocess.Popen(command, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
        self.procs.append((proc, log))
        return proc

    def writer(self, name: str = "writer") -> subprocess.Popen[bytes]:
        command = crawl_command("x", self.output, settings=self.settings)
        command[command.index("crawl") : command.index("crawl") + 2] = ["writer"]
        return self.start(name, command)

    def worker(self, name: str, pages: int = 40) -> subprocess.Popen[bytes]:
        return self.start(name, crawl_command("wallstreetcn", self.output, f"pages={pages}", settings=self.settings))

    def written(self) -> int:
        return sum(1 for _ in (self.output / POSTS).glob("*.md")) if (self.output / POSTS).exists() else 0

    def wait_written(self, count: int) -> None:
        deadline = time.monotonic() + 600  # hang guard only
        while self.written() < count:
            assert time.monotonic() < deadline, "nothing written"
            assert all(proc.poll() is None for proc, _ in self.procs), "a process ended early"
            time.sleep(0.1)

    def finish(self) -> dict[str, int]:
        codes = {}
        for proc, log in self.procs:
            codes[log.stem] = proc.wait(timeout=600)
        return codes

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def writes(self) -> Counter[str]:
        """How often each file was written, over every writer's log."""
        return Counter(path for log in self.logs.glob("writer*.log")
                       for path in re.findall(r"Wrote (\S+) \(", log.read_text(encoding="utf-8", errors="replace")))

    def files(self) -> dict[str, bytes]:
        return {str(p.relative_to(self.output)): p.read_bytes() for p in sorted(self.output.rglob("*.md"))}

    def report(self, name: str = "writer") -> dict[str, Any]:
        path = re.findall(r"\n  report: (\S+\.json)\n", self.log(name))[-1]
        return json.loads(Path(path).read_text(encoding="utf-8"))


def test_three_workers_one_writer_write_every_article_once_also_when_a_worker_is_killed(
        api: MockServer, redis_url: str, single_process: dict[str, bytes], tmp_path: Path) -> None:
    crawl = Crawl(api, redis_url, tmp_path, "t-workers")
    listed_before = listing_requests(api)
    workers = [crawl.worker(f"worker{n}") for n in range(3)]
    crawl.writer()
    crawl.wait_written(ARTICLES // 5)
    workers[0].send_signal(signal.SIGKILL)
    codes = crawl.finish()
    assert codes == {"worker0": -signal.SIGKILL, "worker1": 0, "worker2": 0, "writer": 0}, crawl.log("writer")[-3000:]
    assert crawl.files() == single_process
    writes = crawl.writes()
    assert len(writes) == ARTICLES and set(writes.values()) == {1}
    report = crawl.report()
    # one report for the crawl: every article new once (one the killed worker had in hand may come
    # again, found unchanged), nothing failed
    assert report["counts"]["new"] == ARTICLES and report["exit_code"] == 0
    assert report["failed"] == [] and report["listing_failed"] == []
    # the listing was read once, by one worker, not once per worker: every page once, but those the
    # killed worker had in hand (at most CONCURRENT_REQUESTS), which another worker read again
    listing = listing_requests(api) - listed_before
    assert len(listing) == -(-ARTICLES // PER_PAGE) and set(listing.values()) <= {1, 2}
    assert sum(listing.values()) - len(listing) <= 8
    # the writer's report counts the pages the workers read (one the killed worker fetched and did
    # not finish is read again by another)
    assert len(listing) <= report["pages_read"] <= sum(listing.values())
    assert not list(crawl.output.rglob("*.tmp"))
    # the raw source travelled with each article to the writer, which archived it
    assert len({p.parent for p in (crawl.output / ".state" / "archive").rglob("*.raw.gz")}) == ARTICLES


def test_writer_killed_midway_resumes_without_duplicates_or_partial_files(
        api: MockServer, redis_url: str, single_process: dict[str, bytes], tmp_path: Path) -> None:
    """Over the first 10 listing pages (300 articles): the writer's part is the same for any number."""
    crawl = Crawl(api, redis_url, tmp_path, "t-writer")
    for n in range(2):
        crawl.worker(f"worker{n}", pages=10)
    first = crawl.writer("writer-killed")
    crawl.wait_written(100)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    time.sleep(3)  # REDIS_WORKER_TIMEOUT: the killed writer's key lapses
    crawl.writer()
    codes = crawl.finish()
    assert codes == {"worker0": 0, "worker1": 0, "writer-killed": -signal.SIGKILL, "writer": 0}, crawl.log("writer")[-3000:]
    expected = {path: data for path, data in single_process.items() if int(Path(path).stem) < FIRST_ID + 300}
    assert crawl.files() == expected
    # no file written twice (those the killed writer wrote without logging it are found unchanged)
    assert set(crawl.writes().values()) == {1}
    assert not list(crawl.output.rglob("*.tmp"))
    # the second writer's report covers the whole crawl: what the killed one wrote too, each once
    report = crawl.report()
    assert report["counts"]["new"] == 300 and report["stats"]["article/new"] == 300 and not report.get("unchanged")
    assert sorted(entry["path"] for entry in report["new"]) == sorted(expected)
    assert report["exit_code"] == 0 and report["failed"] == []
    # and it moved the listing mark, as the single-process run of the listing did
    assert listing_mark(crawl.output) == listing_mark(single_process_output(single_process)) == NEWEST


def test_without_redis_url_a_run_is_as_before_and_redis_is_not_imported() -> None:
    """In-process: the addon leaves a run without ``REDIS_URL`` alone, and makes one with it a worker
    (its files written by the writer instead) or, for ``scrapy writer``, the writer (no rendering)."""
    code = """
import sys
from scrapy.settings import Settings
from crawler.distributed import DistributedAddon
import crawler.spiders.backfill, crawler.spiders.wechat, crawler.spiders.wallstreetcn, crawler.extensions
settings = Settings()
settings.setmodule("crawler.settings", priority="project")
before = {name: dict(settings.getdict(name)) for name in ("ITEM_PIPELINES", "EXTENSIONS", "SPIDER_MIDDLEWARES")}
DistributedAddon().update_settings(settings)
after = {name: dict(settings.getdict(name)) for name in ("ITEM_PIPELINES", "EXTENSIONS", "SPIDER_MIDDLEWARES")}
print(settings.get("SCHEDULER"), before == after, "redis" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert out == ["scrapy.core.scheduler.Scheduler", "True", "False"]

    from scrapy.settings import Settings

    from crawler.distributed import WRITER, DistributedAddon

    def configured(**given: str) -> Settings:
        settings = Settings()
        settings.setmodule("crawler.settings", priority="project")
        settings.setdict(given, priority="cmdline")
        DistributedAddon().update_settings(settings)
        return settings

    worker = configured(REDIS_URL="redis://127.0.0.1:1/0")
    assert active(worker, "ITEM_PIPELINES")[-2:] == ["pipelines.adapters.RenderPipeline", "crawler.distributed.worker.HandoffPipeline"]
    assert not {"pipelines.adapters.DedupePipeline", "pipelines.adapters.ArchivePipeline",
                "pipelines.adapters.WritePipeline"} & set(active(worker, "ITEM_PIPELINES"))
    assert "crawler.runlock.RunLockExtension" not in active(worker, "EXTENSIONS")
    assert "crawler.extensions.PublishExtension" not in active(worker, "EXTENSIONS")
    assert worker.get("SCHEDULER") == "crawler.distributed.worker.RedisScheduler" and worker.getbool("SCHEDULER_PERSIST")
    writer = configured(REDIS_URL="redis://127.0.0.1:1/0", REDIS_ROLE=WRITER)
    assert active(writer, "ITEM_PIPELINES")[0] == "pipelines.adapters.DedupePipeline"
    assert active(writer, "ITEM_PIPELINES")[-2:] == ["pipelines.adapters.ArchivePipeline", "pipelines.adapters.WritePipeline"]
    assert "pipelines.adapters.RenderPipeline" not in active(writer, "ITEM_PIPELINES")
    assert writer.get("SCHEDULER") == "scrapy.core.scheduler.Scheduler"


def active(settings: Any, name: str) -> list[str]:
    return [path for path, order in sorted(settings.getdict(name).items(), key=lambda kv: kv[1] or 0) if order is not None]


def test_the_writer_moves_the_listing_mark_as_one_process_does_and_refuses_hostile_entries(
        api: MockServer, redis_url: str, tmp_path: Path) -> None:
    """The writer moves the mark to what the crawl listed, only when every listing page was read;
    the next crawl's workers read the listing down to it only. Entries written into the stream by
    hand (a pickle that would create a file if loaded, JSON that is no article, a failure that is
    no JSON, an unknown kind) are each reported ``malformed-entry`` and acknowledged."""
    single = run_crawl("wallstreetcn", tmp_path / "single", "pages=2", settings={"WALLSTREETCN_API_BASE": api.url})
    assert single.returncode == 0 and len(single.files()) == 60, single.log[-3000:]

    first = Crawl(api, redis_url, tmp_path / "first", "t-mark1")
    marker = tmp_path / "unpickled"
    server = redis.Redis.from_url(redis_url)
    for kind, data in ((b"article", pickle.dumps(Boom(marker))), (b"article", b'{"format": 1, "article": {"source": "x"}}'),
                       (b"failed", b"{not json"), (b"exec", b"{}")):
        server.xadd("t-mark1:stream", {"kind": kind, "data": data})
    first.worker("worker", pages=2)
    first.writer()
    assert first.finish() == {"worker": 0, "writer": 3}, first.log("writer")[-3000:]  # 3: the malformed entries
    assert not marker.exists()
    report = first.report()
    assert [entry["reason"] for entry in report["failed"]] == ["malformed-entry"] * 4
    assert all(entry["url"].startswith("t-mark1:stream/") for entry in report["failed"])
    assert first.files() == single.files() and report["counts"]["new"] == 60
    assert listing_mark(first.output) == listing_mark(single.output) == NEWEST
    assert not server.keys("t-mark1:*")  # the crawl's keys went with its end

    # the next crawl into the same output: its worker reads one listing page (the rest is behind the mark)
    listed_before = listing_requests(api)
    second = Crawl(api, redis_url, tmp_path / "second", "t-mark2")
    second.output = first.output
    second.settings |= {"LISTING_OVERLAP": "0"}
    second.worker("worker", pages=5)
    second.writer()
    assert second.finish() == {"worker": 0, "writer": 0}, second.log("writer")[-3000:]
    assert sum((listing_requests(api) - listed_before).values()) == 1
    assert listing_mark(first.output) == NEWEST

    # a crawl whose listing could not be read whole leaves the mark where it was (here: none)
    routes = synthetic_routes(tmp_path, 90)
    for route in routes["routes"]:
        if route["query"].get("cursor") == "c1" or route["path"].endswith(f"/{FIRST_ID + 4}"):
            del route["file"]  # the second listing page is gone; the fifth article fails transiently
            route["status"] = 404 if "cursor" in route["query"] else 503
    with MockServer(routes, tmp_path) as broken:
        third = Crawl(broken, redis_url, tmp_path / "third", "t-mark3")
        third.settings |= {"RETRY_TIMES": "0"}
        third.worker("worker", pages=3)
        third.writer()
        assert third.finish() == {"worker": 4, "writer": 4}, third.log("writer")[-3000:]
        assert [entry["reason"] for entry in third.report()["listing_failed"]] == ["http-404"]
        assert len(third.files()) == 29 and listing_mark(third.output) is None

        # a crawl of the first page only: the mark moves, held below the article that failed transiently
        single = run_crawl("wallstreetcn", tmp_path / "single-held", "pages=1",
                           settings={"WALLSTREETCN_API_BASE": broken.url, "RETRY_TIMES": "0"})
        assert single.returncode == 3, single.log[-3000:]
        fourth = Crawl(broken, redis_url, tmp_path / "fourth", "t-mark4")
        fourth.settings |= {"RETRY_TIMES": "0"}
        fourth.worker("worker", pages=1)
        fourth.writer()
        assert fourth.finish() == {"worker": 3, "writer": 3}, fourth.log("writer")[-3000:]
    assert [(entry["reason"], entry["kind"]) for entry in fourth.report()["failed"]] == [("http-503", "transient")]
    assert listing_mark(fourth.output) == listing_mark(single.output) == NEWEST - 4 * 60 - 1


# --- URL lists pushed with ``scrapy enqueue`` ------------------------------------------------------

#: WeChat articles of the recorded pages (one of them deleted)
WECHAT_LINES = [
    "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw",
    "https://mp.weixin.qq.com/s/SbB40tES2MrfoNaIPima5A",
    "https://mp.weixin.qq.com/s?__biz=MjM5ODAyNTcwMA==&mid=2651788393&idx=1",
    "https://mp.weixin.qq.com/s/JJyPUpHLM2bGvfk5FNvTUA",
    "https://mp.weixin.qq.com/s/fixture_deleted_01",
]
#: hand-made mixed list: the WeChat articles, a wallstreetcn article, a line that is no URL, and
#: the second line's article again
MIXED_LINES = [*WECHAT_LINES, "https://wallstreetcn.com/articles/3782700", "ftp://example.com/not-a-page", WECHAT_LINES[1]]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory):
    """The recorded wallstreetcn answers and WeChat pages on one replay server."""
    folder = tmp_path_factory.mktemp("recorded")
    with MockServer({"routes": wscn_routes()["routes"] + wechat_routes()["routes"]}, folder) as server:
        yield server


def mixed_list(folder: Path, lines: list[str]) -> Path:
    path = folder / "urls.txt"
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def outcomes_of(report: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """The report's outcomes per article, without times or details (they name the process)."""
    return {name: sorted((entry["url"], entry.get("reason", "")) for entry in report[name])
            for name in ("new", "skipped", "failed")}


def enqueue(crawl: Crawl, spider: str, path: Path) -> subprocess.CompletedProcess[str]:
    command = crawl_command("x", crawl.output, settings=crawl.settings)
    command[command.index("crawl") : command.index("crawl") + 2] = ["enqueue", spider, str(path)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_an_enqueued_list_taken_by_two_backfill_workers_is_the_single_process_backfill(
        recorded: MockServer, redis_url: str, tmp_path: Path) -> None:
    """``scrapy enqueue backfill FILE`` pushes the list once; two backfill workers started without
    a list share its lines; the writer's files and report are those of one ``scrapy crawl backfill``."""
    listing = mixed_list(tmp_path, MIXED_LINES)
    sources = {"WALLSTREETCN_API_BASE": recorded.url, "WECHAT_BASE": recorded.url, "RETRY_TIMES": "0"}
    single = run_crawl("backfill", tmp_path / "single", f"urls_file={listing}", settings=sources)
    assert single.returncode == 3, single.log[-3000:]  # the deleted article and the bad line failed
    assert len(single.files()) == 5
    crawl = Crawl(recorded, redis_url, tmp_path, "t-backfill")
    crawl.settings |= sources
    pushed = enqueue(crawl, "backfill", listing)
    assert pushed.returncode == 0 and "7 line(s) pushed" in pushed.stdout and "1 bad line(s)" in pushed.stdout, pushed.stderr[-2000:]
    for n in range(2):
        crawl.start(f"worker{n}", crawl_command("backfill", crawl.output, settings=crawl.settings))
    crawl.writer()
    codes = crawl.finish()
    assert codes["writer"] == 3 and {codes["worker0"], codes["worker1"]} <= {0, 3}, crawl.log("writer")[-3000:]
    assert crawl.files() == single.files()
    ours, theirs = outcomes_of(crawl.report()), outcomes_of(single.report())
    assert ours["failed"] == theirs["failed"]
    # Two lines are one WeChat article under two URLs: which of them is written ("new") and which is
    # the duplicate ("skipped") is decided by which worker's copy reaches the writer first.
    assert len(ours["new"]) == len(theirs["new"])
    assert sorted(url for url, _ in ours["new"] + ours["skipped"]) == sorted(url for url, _ in theirs["new"] + theirs["skipped"])
    assert sorted(reason for _, reason in ours["skipped"]) == sorted(reason for _, reason in theirs["skipped"])
    # each worker took lines of the one list (none waited for another to read it)
    assert all("Another worker reads" not in crawl.log(f"worker{n}") for n in range(2))


def test_wechat_workers_with_per_host_delays_end_when_the_list_is_done(
        recorded: MockServer, redis_url: str, tmp_path: Path) -> None:
    """WeChat workers send each page after a per-host delay longer than the idle close: they neither
    wait for ever on their own pacing (another worker answers their requests) nor close while a page
    waits for its delay; every article is written once."""
    listing = mixed_list(tmp_path, WECHAT_LINES)
    crawl = Crawl(recorded, redis_url, tmp_path, "t-wechat")
    crawl.settings |= {"WECHAT_BASE": recorded.url, "RETRY_TIMES": "0", "DOWNLOAD_DELAY": "1.5",
                       "DOWNLOAD_DELAY_JITTER": "0", "MAX_IDLE_TIME_BEFORE_CLOSE": "0.5"}
    pushed = enqueue(crawl, "wechat", listing)
    assert pushed.returncode == 0 and "5 line(s) pushed" in pushed.stdout, pushed.stderr[-2000:]
    for n in range(2):
        crawl.start(f"worker{n}", crawl_command("wechat", crawl.output, settings=crawl.settings))
    crawl.writer()
    codes = crawl.finish()
    assert codes["writer"] == 3, crawl.log("writer")[-3000:]  # the deleted article
    report = crawl.report()
    assert sorted(entry["url"] for entry in report["new"]) == sorted(WECHAT_LINES[:4])
    assert [(entry["url"], entry["reason"]) for entry in report["failed"]] == [(WECHAT_LINES[4], "deleted")]
    assert len(crawl.files()) == 4 and set(crawl.writes().values()) == {1}


def test_enqueue_and_writer_refuse_a_bad_start_in_one_line(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text("https://wallstreetcn.com/articles/1\n", encoding="utf-8")
    for args, error in (
        (["enqueue", "backfill", str(listing)], "scrapy enqueue needs -s REDIS_URL"),
        (["enqueue", "wallstreetcn", str(listing), "-s", "REDIS_URL=redis://127.0.0.1:1/0"], "it reads no URL lists"),
        (["enqueue", "backfill", str(tmp_path), "-s", "REDIS_URL=redis://127.0.0.1:1/0"], "is refused"),
        (["enqueue", "backfill", str(listing), "-s", "REDIS_URL=redis://127.0.0.1:1/0"], "no Redis answers"),
        (["enqueue", "backfill", str(listing), "-s", "REDIS_URL=http://x"], "setting REDIS_URL='http://x' is refused"),
        (["writer", "-s", f"OUTPUT_DIR={tmp_path}"], "scrapy writer needs -s REDIS_URL"),
        (["writer", "-s", f"OUTPUT_DIR={tmp_path}", "-s", "REDIS_URL=http://x"], "setting REDIS_URL='http://x' is refused"),
    ):
        proc = subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1 and error in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr[-2000:])
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_the_worker_benchmark_runs_at_a_small_size() -> None:
    """``benchmarks/redis_workers.py`` (a smoke test, no timing assertion): it fails itself when a
    run does not write every article."""
    proc = subprocess.run([sys.executable, "-m", "benchmarks.redis_workers", "--articles", "30", "--workers", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert re.search(r"^single process +30 articles in .* articles/s$", proc.stdout, re.M), proc.stdout
    assert re.search(r"^1 worker\(s\) \+ writer +30 articles in .* articles/s$", proc.stdout, re.M), proc.stdout
