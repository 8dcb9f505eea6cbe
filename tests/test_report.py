"""The run report without a crawl: exit status precedence, retry file of transient failures only,
atomic saving, ``latest.json``, pruning by count and age, masking of secrets."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from pipelines.report import (
    EXIT_ARTICLES_FAILED, EXIT_LISTING_FAILED, EXIT_OK, EXIT_PUBLISH_FAILED, LATEST, Entries, RunReport, masked_all,
    prune_reports,
)


def finished(**changes: object) -> RunReport:
    report = RunReport(spider="wallstreetcn", started="2026-11-30T12:00:00+00:00", finish_reason="finished")
    for name, value in changes.items():
        setattr(report, name, value)
    return report


def failure(url: str, reason: str = "http-500", kind: str = "transient") -> dict[str, str]:
    return {"url": url, "reason": reason, "detail": "", "kind": kind}


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


def test_long_lists_wait_on_disk_and_are_saved_as_json_dumps_writes_them(tmp_path: Path, monkeypatch) -> None:
    """A run's per-article lists go to a temporary file past ``Entries.IN_MEMORY`` (256 bytes here): the
    saved report is byte for byte what ``json.dumps`` of plain lists writes. Hand-made entries with text
    JSON escapes (quotes, backslash, newline, CJK, emoji)."""
    monkeypatch.setattr(Entries, "IN_MEMORY", 256)
    report = finished(settings={"A": "x"})
    titles = ['标题 "引号" \\ 反斜杠', "line\nbreak", "emoji 😀"]
    for n in range(50):
        report.add_written("new", f"https://a/{n}", f"content/posts/a/{n}.md", titles[n % 3])
    report.skipped.append({"url": "https://a/s", "reason": "stored", "detail": "already written"})
    report.add_failed("https://a/f", "http-503", "", "transient")
    assert report.written["new"]._file._rolled  # type: ignore[union-attr]  # on disk, not in memory
    path, _ = report.save(tmp_path)
    plain = {name: list(value) if isinstance(value, Entries) else value for name, value in report.as_dict().items()}
    expected = json.dumps(plain | {"retry_file": str(tmp_path / f"{path.stem}.retry.txt")}, ensure_ascii=False,
                          indent=2, default=str) + "\n"
    assert path.read_text(encoding="utf-8") == expected
    data = json.loads(expected)
    assert [e["title"] for e in data["new"][:3]] == titles and data["counts"]["new"] == 50 and data["updated"] == []
    assert report.retry_urls() == ["https://a/f"] and report.exit_code() == EXIT_ARTICLES_FAILED


def test_only_transient_failures_go_to_the_retry_file(tmp_path: Path) -> None:
    """A deleted page fails the same way however often it is fetched; a 503 may go through later."""
    report = finished()
    report.add_failed("https://mp.weixin.qq.com/s/gone", "deleted", "", "permanent")
    report.add_failed("https://wallstreetcn.com/articles/1", "http-503", "", "transient")
    path, retry = report.save(tmp_path)
    assert retry is not None and retry.read_text(encoding="utf-8").splitlines()[1:] == ["https://wallstreetcn.com/articles/1"]
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [(e["url"], e["kind"]) for e in data["failed"]] == [
        ("https://mp.weixin.qq.com/s/gone", "permanent"), ("https://wallstreetcn.com/articles/1", "transient")]
    assert data["failed_by_kind"] == {"permanent": 1, "transient": 1}

    only_permanent = finished(started="2026-11-30T12:05:00+00:00")
    only_permanent.add_failed("https://mp.weixin.qq.com/s/gone", "deleted", "", "permanent")
    path, retry = only_permanent.save(tmp_path)
    assert retry is None and json.loads(path.read_text(encoding="utf-8"))["retry_file"] is None
    assert only_permanent.exit_code() == EXIT_ARTICLES_FAILED  # still a failed run


def test_report_keys_are_in_a_fixed_order_and_latest_points_at_the_newest(tmp_path: Path) -> None:
    report = finished(arguments={"pages": "3"}, settings={"A": 1}, pages_read=3, duration=12.3456,
                      finished="2026-11-30T12:00:12+00:00")
    path, _ = report.save(tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data) == [
        "spider", "arguments", "settings", "started", "finished", "duration_seconds", "finish_reason", "exit_code",
        "counts", "pages_read", "failed_by_kind", "new", "updated", "unchanged", "skipped", "failed", "listing_failed", "images_failed",
        "publish", "stats", "retry_file",
    ]
    assert (data["arguments"], data["pages_read"], data["duration_seconds"]) == ({"pages": "3"}, 3, 12.346)
    latest = json.loads((tmp_path / LATEST).read_text(encoding="utf-8"))
    assert latest == {"report": path.name, "retry_file": None, "spider": "wallstreetcn",
                      "finished": "2026-11-30T12:00:12+00:00", "exit_code": 0}
    newer, _ = finished(started="2026-11-30T12:15:00+00:00").save(tmp_path)
    assert json.loads((tmp_path / LATEST).read_text(encoding="utf-8"))["report"] == newer.name


def saved_reports(folder: Path, spider: str, starts: list[str]) -> list[Path]:
    """Reports of ``spider`` started at ``starts``, each with a retry file."""
    paths = []
    for start in starts:
        report = finished(spider=spider, started=start)
        report.add_failed(f"https://x/{start}", "http-503", "", "transient")
        paths.append(report.save(folder)[0])
    return paths


def test_pruning_by_count_keeps_the_newest_and_other_spiders_reports(tmp_path: Path) -> None:
    starts = [f"2026-11-30T12:{m:02d}:00+00:00" for m in range(6)]
    reports = saved_reports(tmp_path, "wallstreetcn", starts)
    other = saved_reports(tmp_path, "wechat", starts[:1])
    removed = prune_reports(tmp_path, "wallstreetcn", keep=2, max_age_days=0)
    assert sorted(removed) == sorted(reports[:4])
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([LATEST, *(p.name for p in reports[4:] + other),
                           *(p.with_suffix(".retry.txt").name for p in reports[4:] + other)])


def test_pruning_by_age_never_removes_the_newest(tmp_path: Path) -> None:
    now = datetime(2026, 12, 31, 12, 0, tzinfo=timezone.utc)
    old, recent = saved_reports(tmp_path, "wechat", ["2026-11-01T00:00:00+00:00", "2026-12-30T00:00:00+00:00"])
    assert prune_reports(tmp_path, "wechat", keep=200, max_age_days=30, now=now) == [old]
    assert not old.exists() and not old.with_suffix(".retry.txt").exists() and recent.exists()
    # all too old: the newest stays, latest.json points at it
    assert prune_reports(tmp_path, "wechat", keep=200, max_age_days=1, now=datetime(2027, 6, 1, tzinfo=timezone.utc)) == []
    assert recent.exists()
    # no limits: nothing goes
    saved_reports(tmp_path, "wechat", ["2020-01-01T00:00:00+00:00"])
    assert prune_reports(tmp_path, "wechat", keep=0, max_age_days=0, now=now) == []


def test_secrets_are_masked() -> None:
    assert masked_all({
        "TELNETCONSOLE_PASSWORD": "hunter2", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "GITHUB_TOKEN": "ghp_x",
        "SITE_REMOTE": "https://bot:ghp_x@github.com/o/site.git", "MIRRORS": ["ssh://git@host/x.git", "https://h/y"],
        "WECHAT_JUNK_RULES": {"*": {"blocks": ["x"]}, "api_key": "k"}, "RETRY_TIMES": 4, "urls": "https://a/1,https://u:p@b/2",
    }) == {
        "AWS_SECRET_ACCESS_KEY": "***", "GITHUB_TOKEN": "***",
        "MIRRORS": ["ssh://***@host/x.git", "https://h/y"], "RETRY_TIMES": 4,
        "SITE_REMOTE": "https://***@github.com/o/site.git", "TELNETCONSOLE_PASSWORD": "***",
        "WECHAT_JUNK_RULES": {"*": {"blocks": ["x"]}, "api_key": "***"}, "urls": "https://a/1,https://***@b/2",
    }
