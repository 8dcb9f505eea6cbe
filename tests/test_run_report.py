"""The run report of real crawls: failure kinds and the retry file, what the report records
about the run (arguments, changed settings with secrets masked, pages read, times), the summary
whatever LOG_LEVEL, and a report that cannot be saved failing the run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import MockServer, free_routes, run_crawl, wechat_routes

DELETED = "https://mp.weixin.qq.com/s/fixture_deleted_01"
BUSY = "https://mp.weixin.qq.com/s/fixture_busy_503"
NORMAL = "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw"


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory):
    """A WeChat run of a deleted page, a page answering 503 and a normal page, logging at WARNING only."""
    tmp = tmp_path_factory.mktemp("report")
    routes = wechat_routes()
    routes["routes"].append({"path": "/s/fixture_busy_503", "status": 503, "body": "busy"})
    with MockServer(routes, tmp) as server:
        result = run_crawl("wechat", tmp / "out", f"urls={DELETED},{BUSY},{NORMAL}", settings={
            "WECHAT_BASE": server.url, "RETRY_TIMES": "0", "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_PASSWORD": "hunter2",  # a secret by its name (the console itself stays off)
            "SITE_REMOTE": "https://bot:s3cr3t@example.org/site.git",  # a credential inside a URL
        })
    return result


def test_only_the_transient_failure_is_offered_for_retry(failing_run) -> None:
    assert failing_run.returncode == 3, failing_run.log
    report = failing_run.report()
    assert sorted((e["url"], e["reason"], e["kind"]) for e in report["failed"]) == [
        (BUSY, "http-503", "transient"), (DELETED, "deleted", "permanent")]
    assert report["failed_by_kind"] == {"permanent": 1, "transient": 1}
    retry = Path(report["retry_file"])
    assert retry.read_text(encoding="utf-8").splitlines()[1:] == [BUSY]
    assert (f"retry: 1 transient failure(s) can be retried with: scrapy crawl backfill -a urls_file={retry}; "
            "1 permanent failure(s) left out (deleted 1)") in failing_run.log


def test_summary_is_printed_at_log_level_warning(failing_run) -> None:
    assert re.search(r"SUMMARY: Run summary \(wechat, finished, \d+s\): 1 new, ", failing_run.log)
    assert "exit status 3" in failing_run.log
    assert "\n  report: " in failing_run.log
    assert " INFO: " not in failing_run.log  # the level is respected for everything else


def test_report_records_the_run(failing_run) -> None:
    report = failing_run.report()
    assert report["arguments"] == {"urls": f"{DELETED},{BUSY},{NORMAL}"}
    settings = report["settings"]
    assert list(settings) == sorted(settings)
    assert settings["TELNETCONSOLE_PASSWORD"] == "***"
    assert settings["SITE_REMOTE"] == "https://***@example.org/site.git"
    assert settings["RETRY_TIMES"] == "0" and settings["LOG_LEVEL"] == "WARNING"
    assert settings["OUTPUT_DIR"] == str(failing_run.output)
    assert "CONCURRENT_REQUESTS" not in settings  # the project's own value: not a change
    assert "hunter2" not in json.dumps(report) and "s3cr3t" not in json.dumps(report)
    assert report["pages_read"] == 0  # WeChat runs read no listing
    assert report["started"] <= report["finished"] and report["duration_seconds"] >= 0
    assert report["stats"]["article/failed/deleted"] == 1
    latest = json.loads((Path(failing_run.output) / ".state" / "reports" / "latest.json").read_text(encoding="utf-8"))
    assert latest["report"] == Path(re.findall(r"\n  report: (\S+\.json)\n", failing_run.log)[-1]).name
    assert latest["retry_file"] == Path(report["retry_file"]).name and latest["exit_code"] == 3


def test_listing_pages_read_are_recorded(tmp_path: Path) -> None:
    with MockServer(free_routes(), tmp_path) as server:
        result = run_crawl("wallstreetcn", tmp_path / "out", "pages=2", settings={"WALLSTREETCN_API_BASE": server.url})
    report = result.report()
    assert result.returncode == 0, result.log
    assert report["pages_read"] == 1  # the free listing has one page
    assert report["arguments"] == {"pages": "2"}


def test_a_report_that_cannot_be_saved_fails_the_run(tmp_path: Path) -> None:
    """Hand-made breakage: a folder squats the name of ``latest.json``, so saving the report fails."""
    reports = tmp_path / "reports"
    (reports / "latest.json").mkdir(parents=True)
    with MockServer(free_routes(), tmp_path) as server:
        result = run_crawl("wallstreetcn", tmp_path / "out", settings={
            "WALLSTREETCN_API_BASE": server.url, "REPORTS_DIR": str(reports)})
    assert result.returncode == 1, result.log  # the crawl itself went well: exit 0 without the report
    assert re.search(r"ERROR: Run report not saved in \S+reports: ", result.log)
    assert "exit status 1\n  report: NOT SAVED" in result.log
    assert "Traceback" not in result.log
