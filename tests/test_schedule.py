"""Scheduled wallstreetcn runs, repeated: only new articles are fetched, upstream edits
are picked up with ``lastmod``, a SIGKILLed run is completed by the next one, and the
exit status tells cron what happened. Real ``scrapy crawl`` against the replay server."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

import pytest

from pipelines import archive
from pipelines.state import StateStore
from tests.conftest import ROOT, WSCN, MockServer, crawl_command, free_routes, run_crawl, serve, wscn_routes

POSTS = "content/posts/wallstreetcn"
LISTING = "/apiv1/content/articles?limit=30"


def crawl(server: MockServer, output: Path, *args: str, **settings: str):
    return run_crawl("wallstreetcn", output, *args, settings={"WALLSTREETCN_API_BASE": server.url, "RETRY_TIMES": "0", **settings})


def snapshot(output: Path) -> dict[str, tuple[bytes, int]]:
    """Every article file with its bytes and modification time (a rewrite changes the latter)."""
    return {str(p.relative_to(output)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(output.rglob("*.md"))}


def edited_detail(tmp: Path) -> Path:
    """Hand-made upstream edit: the recorded 3782700 answer with its first paragraph reworded."""
    answer = json.loads((WSCN / "article-3782700.json").read_text(encoding="utf-8"))
    content = answer["data"]["content"]
    first = re.search(r"<p[^>]*>(.+?)</p>", content).group(1)
    answer["data"]["content"] = content.replace(first, "更正：" + first, 1)
    path = tmp / "article-3782700-edited.json"
    path.write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory):
    """A first scheduled run, then a second one over the same (unchanged) responses."""
    tmp = tmp_path_factory.mktemp("schedule")
    out = tmp / "out"
    with MockServer(free_routes(), tmp) as server:
        first = crawl(server, out)
        before = snapshot(out)
        served = len(server.requests())
        second = crawl(server, out)
        second.requests = server.requests()[served:]
    return first, before, second


def test_first_run_writes_the_free_articles(two_runs) -> None:
    first, before, _ = two_runs
    assert first.returncode == 0, first.log
    assert sorted(before) == [f"{POSTS}/3740710.md", f"{POSTS}/3782700.md"]
    assert before[f"{POSTS}/3740710.md"][0] == (WSCN / "seed-3740710.md").read_bytes()


def test_second_run_makes_only_the_listing_request_and_writes_nothing(two_runs) -> None:
    _, before, second = two_runs
    assert second.returncode == 0, second.log
    assert second.requests == [LISTING]
    assert snapshot(second.output) == before  # same bytes, not even rewritten
    assert "article/written" not in second.stats()
    report = second.report()
    assert report["counts"] | {"skipped": 0} == {"new": 0, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 0, "listing_failed": 0}
    assert sorted((s["url"], s["reason"]) for s in report["skipped"]) == [
        ("https://wallstreetcn.com/articles/3740710", "stored"),
        ("https://wallstreetcn.com/articles/3782635", "paid"),
        ("https://wallstreetcn.com/articles/3782700", "stored"),
    ]


def test_listing_stops_at_stored_articles_beyond_the_overlap(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with MockServer(wscn_routes(), tmp_path) as server:
        crawl(server, out, "pages=5")
        served = len(server.requests())
        # 3782700 (newest, stored) is 1796 s newer than page 1's oldest item: within the default
        # hour of overlap page 2 is read; with no overlap the run stops after page 1.
        crawl(server, out, "pages=5")
        wide = [r for r in server.requests()[served:] if "/articles?" in r]
        served = len(server.requests())
        crawl(server, out, "pages=5", LISTING_OVERLAP="0")
        narrow = [r for r in server.requests()[served:] if "/articles?" in r]
    assert len(wide) == 2
    assert narrow == [LISTING]


def test_upstream_edit_rewrites_exactly_that_file_with_lastmod(two_runs, tmp_path: Path) -> None:
    _, before, _ = two_runs
    out = tmp_path / "out"
    with MockServer(free_routes(), tmp_path) as server:
        crawl(server, out)
    unchanged = snapshot(out)
    with serve(free_routes({3782700: edited_detail(tmp_path)}), tmp_path, "edited") as server:
        started = datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0)
        refreshed = crawl(server, out, "refresh=1")
        finished = datetime.now(ZoneInfo("Asia/Shanghai"))
        details = [r for r in server.requests() if "/articles/" in r]
    after = snapshot(out)
    assert refreshed.returncode == 0, refreshed.log
    assert "/apiv1/content/articles/3740710?extract=0" in details  # refresh re-fetches stored articles
    assert after[f"{POSTS}/3740710.md"] == unchanged[f"{POSTS}/3740710.md"]  # untouched, same mtime

    old = unchanged[f"{POSTS}/3782700.md"][0].decode().splitlines()
    new = after[f"{POSTS}/3782700.md"][0].decode().splitlines()
    old_front, old_body = old[1 : old.index("---", 1)], old[old.index("---", 1) + 1 :]
    new_front, new_body = new[1 : new.index("---", 1)], new[new.index("---", 1) + 1 :]
    assert new_front[2].startswith("lastmod: ")  # right after title and date
    assert [l for l in new_front if not l.startswith("summary:")] == [
        *old_front[:2], new_front[2], *[l for l in old_front[2:] if not l.startswith("summary:")]
    ]
    lastmod = datetime.strptime(json.loads(new_front[2].split(": ", 1)[1]), "%Y-%m-%d %H:%M:%S")
    assert started.replace(tzinfo=None) <= lastmod <= finished.replace(tzinfo=None)  # the date format, site zone
    first = next(l for l in old_body if l)
    assert new_body == [("更正：" + l if l == first else l) for l in old_body]
    assert refreshed.report()["updated"] == [
        {"url": "https://wallstreetcn.com/articles/3782700", "path": f"{POSTS}/3782700.md",
         "title": refreshed.report()["updated"][0]["title"]}
    ]
    assert [e["path"] for e in refreshed.report()["unchanged"]] == [f"{POSTS}/3740710.md"]

    # Fetching the same edit again changes nothing: the content hash leaves lastmod out.
    with serve(free_routes({3782700: edited_detail(tmp_path)}), tmp_path, "again") as server:
        again = crawl(server, out, "refresh=1")
    assert snapshot(out) == after
    assert again.report()["counts"]["unchanged"] == 2


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, "crawl ended before it could be killed"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_sigkill_midway_leaves_no_partial_file_and_the_next_run_completes_the_set(tmp_path: Path) -> None:
    with serve(wscn_routes(), tmp_path, "reference") as server:
        reference = crawl(server, tmp_path / "reference", "pages=5")
    assert len(reference.files()) == 2

    out = tmp_path / "out"
    slow = wscn_routes()
    for route in slow["routes"]:
        if route["path"].endswith("/3740710"):
            route["delay"] = 60  # page 2's article: the run is killed while it waits for it
    with serve(slow, tmp_path, "slow") as server:
        command = crawl_command("wallstreetcn", out, "pages=5", settings={"WALLSTREETCN_API_BASE": server.url, "RETRY_TIMES": "0"})
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(out / POSTS / "3782700.md", proc)
            while "/apiv1/content/articles/3740710?extract=0" not in server.requests():
                assert proc.poll() is None
                time.sleep(0.05)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # the state and the run lock's file stay (the kernel dropped the lock with the process)
    leftovers = [p for p in out.rglob("*") if p.is_file() and not p.name.startswith("state.sqlite3") and p.name != "run.lock"]
    archived = [p.relative_to(out).as_posix() for p in leftovers if p.relative_to(out).parts[:2] == (".state", "archive")]
    assert [p.relative_to(out).as_posix() for p in leftovers if p.relative_to(out).as_posix() not in archived] == [
        f"{POSTS}/3782700.md"]  # no temp file, no report
    # the written article's raw source, complete (pipelines/archive.py), and nothing else in the archive
    assert [PurePosixPath(p).parent.as_posix() for p in archived] == [".state/archive/wallstreetcn/3782700"]
    assert archive.load(out / ".state" / "archive", "wallstreetcn:3782700").context == {"article_id": "3782700"}
    assert (out / POSTS / "3782700.md").read_bytes() == reference.files()[f"{POSTS}/3782700.md"]

    with MockServer(wscn_routes(), tmp_path) as server:
        # No overlap at all: the killed run finished no listing, so nothing it wrote hides page 2.
        resumed = crawl(server, out, "pages=5", LISTING_OVERLAP="0")
    assert resumed.files() == reference.files()
    assert not [p for p in out.rglob("*.tmp")]
    assert resumed.report()["new"] == [
        {"url": "https://wallstreetcn.com/articles/3740710", "path": f"{POSTS}/3740710.md",
         "title": resumed.report()["new"][0]["title"]}
    ]


def test_exit_status_success_partial_failure_and_listing_failure(two_runs, tmp_path: Path) -> None:
    first, _, _ = two_runs
    assert first.returncode == 0
    with serve(wscn_routes(), tmp_path, "partial") as server:
        partial = crawl(server, tmp_path / "partial")
    assert partial.returncode == 3, partial.log
    assert partial.report()["failed"][0]["url"] == "https://wallstreetcn.com/articles/3782699"
    assert len(partial.files()) == 1  # what could be written was written

    broken = wscn_routes()
    for route in broken["routes"]:
        if route["query"] == {"limit": "30"}:
            route.pop("file")
            route["status"] = 503
    with serve(broken, tmp_path, "broken") as server:
        unreadable = crawl(server, tmp_path / "unreadable")
    assert unreadable.returncode == 4, unreadable.log
    assert unreadable.report()["listing_failed"][0]["reason"] == "http-503"
    assert "exit status 4" in unreadable.log


def test_transient_failure_holds_the_listing_mark_until_a_run_fetches_it(tmp_path: Path) -> None:
    """Run 1 fails 3740710 (page 2, far older than the overlap window) with a 503; run 2, against a
    healthy upstream and with no overlap at all, still reads down to it and fetches it, and only it."""
    out = tmp_path / "out"
    failing = wscn_routes()
    for route in failing["routes"]:
        if route["path"].endswith("/3740710"):
            route.pop("file")
            route["status"] = 503
    with serve(failing, tmp_path, "failing") as server:
        first = crawl(server, out, "pages=5", RETRY_ENABLED="0", LISTING_OVERLAP="0")
    assert first.returncode == 3, first.log
    assert {(e["url"], e["reason"]) for e in first.report()["failed"]} == {
        ("https://wallstreetcn.com/articles/3740710", "http-503"),  # transient: holds the mark
        ("https://wallstreetcn.com/articles/3782699", "api-error"),  # permanent: does not
    }
    assert sorted(first.files()) == [f"{POSTS}/3782700.md"]

    with serve(wscn_routes(), tmp_path, "healthy") as server:
        second = crawl(server, out, "pages=5", LISTING_OVERLAP="0")
        details = [r for r in server.requests() if "/articles/" in r]
    assert sorted(details) == ["/apiv1/content/articles/3740710?extract=0", "/apiv1/content/articles/3782699?extract=0"]
    assert [e["url"] for e in second.report()["new"]] == ["https://wallstreetcn.com/articles/3740710"]
    assert ("https://wallstreetcn.com/articles/3782700", "stored") in {(s["url"], s["reason"]) for s in second.report()["skipped"]}
    assert sorted(second.files()) == [f"{POSTS}/3740710.md", f"{POSTS}/3782700.md"]

    with serve(wscn_routes(), tmp_path, "done") as server:
        third = crawl(server, out, "pages=5", LISTING_OVERLAP="0")
        listing = [r for r in server.requests() if "/articles?" in r]
    assert listing == [LISTING]  # nothing held any more: the mark moved up to the newest item
    assert third.returncode == 3  # 3782699 is still an api-error (permanent, never held the mark)


def test_listing_mark_never_moves_back_except_below_held_work(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.sqlite3")
    store.set_listing_mark("x", 100)
    store.set_listing_mark("x", 90)  # a run that listed less deep (since=, pages=) keeps the mark
    assert store.listing_mark("x") == 100
    store.set_listing_mark("x", 120, hold_below=95)  # an article listed at 95 failed transiently
    assert store.listing_mark("x") == 94
    store.set_listing_mark("x", 120)  # the next run finished it
    assert store.listing_mark("x") == 120
    store.close()
