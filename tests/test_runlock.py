"""The run lock: two runs at once on one output folder, as cron starts them when a run is slow.
The second exits 6 with one line; the first's log (appended to, as with ``>>``) and report are intact."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.conftest import ROOT, MockServer, crawl_command, free_routes, run_crawl

#: seconds the first run waits for one article: long enough for a second run to start meanwhile
SLOW = 15


def test_a_second_run_exits_6_and_leaves_the_first_alone(tmp_path: Path) -> None:
    out, log = tmp_path / "out", tmp_path / "cron.log"
    routes = free_routes()
    for route in routes["routes"]:
        if route["path"].endswith("/3740710"):
            route["delay"] = SLOW
    with MockServer(routes, tmp_path) as server:
        settings = {"WALLSTREETCN_API_BASE": server.url}
        with log.open("a") as appended:  # cron: >> cron.log 2>&1
            first = subprocess.Popen(crawl_command("wallstreetcn", out, settings=settings), cwd=ROOT,
                                     stdout=appended, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while "/apiv1/content/articles/3740710?extract=0" not in server.requests():
                assert first.poll() is None and time.monotonic() < deadline, log.read_text(encoding="utf-8")
                time.sleep(0.05)
            second = run_crawl("wallstreetcn", out, settings=settings)
            served = server.requests()
        finally:
            first.wait(timeout=120)
        after = run_crawl("wallstreetcn", out, settings=settings)  # the lock is free again

    assert second.returncode == 6, second.log
    assert second.log.splitlines() == [second.log.splitlines()[0]]
    assert f"Another run holds {out / '.state' / 'run.lock'} (pid {first.pid}, wallstreetcn run started " in second.log
    assert served.count("/apiv1/content/articles?limit=30") == 1  # the second run requested nothing

    assert first.returncode == 0
    first_log = log.read_text(encoding="utf-8")
    assert "Run summary (wallstreetcn, finished" in first_log and "exit status 0" in first_log
    reports = sorted(p.name for p in (out / ".state" / "reports").iterdir())
    assert len(reports) == 3 and "latest.json" in reports  # the first's report, the later run's, latest.json
    first_report = next(p for p in reports if p.endswith(".json") and p != "latest.json" and p in first_log)
    assert first_report and (out / ".state" / "reports" / first_report).stat().st_size > 0
    assert after.returncode == 0, after.log


def test_no_lock_when_run_lock_is_empty(tmp_path: Path) -> None:
    """``-s RUN_LOCK=`` turns the lock off: no lock file is made."""
    with MockServer(free_routes(), tmp_path) as server:
        result = run_crawl("wallstreetcn", tmp_path / "out", settings={"WALLSTREETCN_API_BASE": server.url, "RUN_LOCK": ""})
    assert result.returncode == 0, result.log
    assert not (tmp_path / "out" / ".state" / "run.lock").exists()


def test_a_lock_file_that_cannot_be_opened_refuses_the_run_in_one_line(tmp_path: Path) -> None:
    """Hand-made: RUN_LOCK is a dangling symlink into a missing folder. It passes the up-front
    checks (its own folder is writable) but cannot be opened: exit 1, one error line, no
    traceback, nothing requested or written."""
    lock = tmp_path / "run.lock"
    lock.symlink_to(tmp_path / "missing" / "run.lock")
    with MockServer(free_routes(), tmp_path) as server:
        result = run_crawl("wallstreetcn", tmp_path / "out", settings={"WALLSTREETCN_API_BASE": server.url, "RUN_LOCK": str(lock)})
        served = server.requests()
    assert result.returncode == 1, result.log
    assert "Traceback" not in result.log
    assert [line for line in result.log.splitlines() if "ERROR" in line] == [
        line for line in result.log.splitlines() if f"RUN_LOCK {lock} cannot be opened" in line]
    assert served == []
    assert not list((tmp_path / "out").rglob("*.md"))
