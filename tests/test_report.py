"""The run report without a crawl: exit status precedence, retry file, atomic saving."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.report import EXIT_ARTICLES_FAILED, EXIT_LISTING_FAILED, EXIT_OK, EXIT_PUBLISH_FAILED, RunReport


def finished(**changes: object) -> RunReport:
    report = RunReport(spider="wallstreetcn", started="2026-11-30T12:00:00+00:00", finish_reason="finished")
    for name, value in changes.items():
        setattr(report, name, value)
    return report


def failure(url: str) -> dict[str, str]:
    return {"url": url, "reason": "http-500", "detail": ""}


def test_exit_status_precedence() -> None:
    assert finished(skipped=[{"url": "u", "reason": "paid", "detail": ""}]).exit_code() == EXIT_OK
    assert finished(finish_reason="shutdown").exit_code() == EXIT_ARTICLES_FAILED
    assert finished(failed=[failure("a")]).exit_code() == EXIT_ARTICLES_FAILED
    publish_failed = {"status": "failed", "commit": "", "detail": "x"}
    assert finished(failed=[failure("a")], publish=publish_failed).exit_code() == EXIT_PUBLISH_FAILED
    assert finished(failed=[failure("a")], publish=publish_failed, listing_failed=[failure("l")]).exit_code() == EXIT_LISTING_FAILED


def test_saved_report_and_retry_file(tmp_path: Path) -> None:
    report = finished(failed=[failure("https://a/1"), failure("https://a/2"), failure("https://a/1")])
    report.add_written("new", "https://a/3", "content/posts/a/3.md", "Three")
    path, retry = report.save(tmp_path)
    again, _ = report.save(tmp_path)  # same start second: a second name, nothing overwritten
    assert path.name == "wallstreetcn-20261130T120000Z.json" and again != path
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["counts"] == {"new": 1, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 3, "listing_failed": 0}
    assert data["retry_file"] == str(retry) and data["exit_code"] == EXIT_ARTICLES_FAILED
    assert retry is not None and retry.read_text(encoding="utf-8").splitlines()[1:] == ["https://a/1", "https://a/2"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary files left
